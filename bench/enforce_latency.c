// Latency of allowed execs and opens, measured inside a container by bench/runtime.sh (enforce mode).
// Usage: enforce_latency exec|open N [PATH] -> prints "p50_us p99_us mean_us" over N operations.
//   exec: fork + execve(PATH, default /bin/true) + waitpid, timed from before fork to after waitpid;
//   open: open(PATH, default /etc/passwd, O_RDONLY) + close.
// Built static by the bench (gcc -O2 -static) so it runs in a busybox root filesystem.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s exec|open N [PATH]\n", argv[0]);
		return 2;
	}
	int exec_mode = strcmp(argv[1], "exec") == 0;
	long n = atol(argv[2]);
	const char *path = argc > 3 ? argv[3] : (exec_mode ? "/bin/true" : "/etc/passwd");
	if (n <= 0)
		return 2;
	double *lat = malloc(sizeof(double) * n);
	if (!lat)
		return 1;
	double sum = 0;
	for (long i = 0; i < n; i++) {
		double t0 = now_us();
		if (exec_mode) {
			pid_t p = fork();
			if (p == 0) {
				char *args[] = {(char *)path, NULL};
				execv(path, args);
				_exit(127);
			}
			int st;
			if (p < 0 || waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "exec of %s failed\n", path);
				return 1;
			}
		} else {
			int fd = open(path, O_RDONLY);
			if (fd < 0) {
				perror(path);
				return 1;
			}
			close(fd);
		}
		lat[i] = now_us() - t0;
		sum += lat[i];
	}
	qsort(lat, n, sizeof(double), cmp);
	printf("%.1f %.1f %.1f\n", lat[n / 2], lat[(n * 99) / 100], sum / n);
	return 0;
}
