/*
 * types/decision.c — names for the enums of the decision record (types/decision.h).
 *
 * The names are part of the outside interface: they appear in the suggestions log, the
 * API's decision list and the daemon's log lines, so they are short, lower case and stable.
 */
#include "types/decision.h"

const char *decision_reason_name(enum decision_reason r)
{
	switch (r) {
	case REASON_THRESHOLD: return "threshold";
	case REASON_ANOMALY:   return "anomaly";
	case REASON_PSI:       return "psi";
	case REASON_OOM:       return "oom";
	case REASON_MANUAL:    return "manual";
	case REASON_RECONCILE: return "reconcile";
	}
	return "unknown";
}

const char *decision_change_name(enum decision_change c)
{
	switch (c) {
	case DECISION_NONE: return "none";
	case DECISION_UP:   return "increase";
	case DECISION_DOWN: return "decrease";
	case DECISION_SET:  return "set";
	}
	return "unknown";
}

const char *decision_wake_name(enum decision_wake w)
{
	switch (w) {
	case WAKE_NONE:          return "none";
	case WAKE_TICK:          return "tick";
	case WAKE_CPU_PSI:       return "cpu_psi";
	case WAKE_MEMORY_PSI:    return "memory_psi";
	case WAKE_MEMORY_EVENTS: return "memory_events";
	case WAKE_BPF_RUNQ:      return "bpf_runq";
	case WAKE_BPF_RECLAIM:   return "bpf_reclaim";
	case WAKE_BPF_OOM:       return "bpf_oom";
	}
	return "unknown";
}
