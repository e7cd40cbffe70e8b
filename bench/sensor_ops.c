// Micro-benchmark of what the runtime sensor costs a workload: the process's own CPU time (user + sys from
// getrusage) per operation for a tight loop of one kind of syscall, so a loaded machine (time waiting for a
// core) does not distort it. Used by `bench/runtime.sh ops`.
//
//   sensor_ops open-tmp N     open(O_RDONLY) + close of a file in the current directory (a path no rule reads)
//   sensor_ops open-etc N     open(O_RDONLY) + close of /etc/hostname (under a sensitive prefix)
//   sensor_ops open-write N   open(O_WRONLY) + close of a file in the current directory
//   sensor_ops open-rel N     open(O_RDONLY) + close of the same file by its relative name (judged in the
//                             kernel by its directory once the agent has found the directory quiet)
//   sensor_ops connect N      TCP connect to a loopback listener of this process, accept, close both
//   sensor_ops getpid N       getpid(): a syscall the sensor never reports (the cost of the entry path)
//
// Prints one line: `MODE N ns_per_op`.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static double cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s open-tmp|open-etc|open-write|open-rel|connect|getpid N\n", argv[0]);
		return 2;
	}
	const char *mode = argv[1];
	long n = atol(argv[2]);
	if (n <= 0) {
		fprintf(stderr, "N must be positive\n");
		return 2;
	}
	int lfd = -1;
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (!strcmp(mode, "connect")) {
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 128))
			die("listener");
		socklen_t len = sizeof(addr);
		getsockname(lfd, (struct sockaddr *)&addr, &len);
	} else if (!strcmp(mode, "open-tmp") || !strcmp(mode, "open-write") || !strcmp(mode, "open-rel")) {
		int fd = open("sensor_ops.dat", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			die("sensor_ops.dat");
		close(fd);
	}
	char path[4096];
	if (!strcmp(mode, "open-tmp") || !strcmp(mode, "open-write")) {
		if (!getcwd(path, sizeof(path) - 20))
			die("getcwd");
		strcat(path, "/sensor_ops.dat");
	} else if (!strcmp(mode, "open-rel")) {
		strcpy(path, "sensor_ops.dat");
	} else {
		strcpy(path, "/etc/hostname");
	}
	double t0 = cpu_ns();
	for (long i = 0; i < n; i++) {
		if (!strcmp(mode, "getpid")) {
			syscall(SYS_getpid);
		} else if (!strcmp(mode, "connect")) {
			int c = socket(AF_INET, SOCK_STREAM, 0);
			if (c < 0 || connect(c, (struct sockaddr *)&addr, sizeof(addr)))
				die("connect");
			int a = accept(lfd, NULL, NULL);
			if (a < 0)
				die("accept");
			close(a);
			close(c);
		} else {
			int fd = open(path, !strcmp(mode, "open-write") ? O_WRONLY : O_RDONLY);
			if (fd < 0)
				die(path);
			close(fd);
		}
	}
	double t1 = cpu_ns();
	if (!strcmp(mode, "open-tmp") || !strcmp(mode, "open-write") || !strcmp(mode, "open-rel"))
		unlink("sensor_ops.dat");
	printf("%s %ld %.0f\n", mode, n, (t1 - t0) / n);
	return 0;
}
