/*
 * pve_config.c — libFuzzer target for the Proxmox config parsers (user/pve/ctconfig.c).
 *
 * The daemon reads each container's baseline limits from `pct config <vmid> --current`
 * (text) or from the PVE REST API (JSON). Both come from another program and, through the
 * container's description and raw lxc.* keys, partly from whoever administers the
 * container. The first byte picks the parser: even = pct text, odd = JSON. A parse that
 * succeeds must give limits inside the ranges the parsers promise (cores 0..8192, memory
 * 16 MiB..1 TiB, cpulimit finite in 0..8192), and pve_limits_cpu() a finite, non-negative
 * value; anything else, or a sanitizer report, is a finding.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pve/ctconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 256 * 1024)
		return 0;
	bool json = data[0] & 1;
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	struct pve_limits l;
	int rc = json ? pve_limits_from_json(text, &l) : pve_limits_from_pct_text(text, &l);
	if (rc == 0) {
		if (l.cores > 8192 || l.memory_mb < 16 || l.memory_mb > (1ull << 30) ||
		    !isfinite(l.cpulimit) || l.cpulimit < 0 || l.cpulimit > 8192)
			abort();
		double cpu = pve_limits_cpu(&l);
		if (!isfinite(cpu) || cpu < 0)
			abort();
	}
	free(text);
	return 0;
}
