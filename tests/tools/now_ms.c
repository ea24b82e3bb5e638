/*
 * now_ms — prints the wall clock in milliseconds since the epoch (CLOCK_REALTIME), the
 * clock the daemon stamps decisions with. The VM's busybox `date` has no %N, and the
 * scenarios time bursts against decision timestamps.
 */
#include <stdio.h>
#include <time.h>

int main(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	printf("%lld\n", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	return 0;
}
