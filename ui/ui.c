/*
 * ui/ui.c — finds an embedded dashboard file by name (ui/ui.h). The table is small (a
 * handful of files): a linear search is all it needs.
 */
#include "ui.h"

#include <string.h>

const struct ui_asset *ui_asset_find(const char *name)
{
	for (size_t i = 0; i < ui_n_assets; i++)
		if (!strcmp(ui_assets[i].name, name))
			return &ui_assets[i];
	return NULL;
}
