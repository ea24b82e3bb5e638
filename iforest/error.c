/*
 * error.c — one sentence per error code, so every caller reports failures the same way.
 */
#include "iforest.h"

const char *iforest_strerror(int code)
{
	switch (code) {
	case IFOREST_OK:            return "success";
	case IFOREST_E_INVAL:       return "invalid argument";
	case IFOREST_E_NOMEM:       return "out of memory";
	case IFOREST_E_NONFINITE:   return "input holds NaN or infinity";
	case IFOREST_E_FEATURES:    return "feature count does not match the model";
	case IFOREST_E_EMPTY:       return "no rows";
	case IFOREST_E_IO:          return "I/O error";
	case IFOREST_E_TRUNCATED:   return "model file is truncated";
	case IFOREST_E_MAGIC:       return "not an iforest model file (bad magic)";
	case IFOREST_E_VERSION:     return "unsupported model file version (this build reads versions 1 and 2)";
	case IFOREST_E_CHECKSUM:    return "model file checksum mismatch (corrupted)";
	case IFOREST_E_CORRUPT:     return "model file content is inconsistent (corrupted)";
	case IFOREST_E_PARSE:       return "malformed text input";
	case IFOREST_E_NOMODEL:     return "no model has been built yet";
	case IFOREST_E_UNSUPPORTED: return "kernel not supported on this CPU or model";
	}
	return "unknown error";
}
