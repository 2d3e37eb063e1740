// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "../bpf/portredir_abi.h"
#include "log.h"
#include "pins.h"

bool pr_bpffs_mounted(void)
{
	struct statfs st;

	return !statfs(PR_BPFFS_ROOT, &st) && st.f_type == BPF_FS_MAGIC;
}

int pr_bpffs_ensure(struct pr_errbuf *err)
{
	if (pr_bpffs_mounted())
		return 0;
	if (mount("bpf", PR_BPFFS_ROOT, "bpf", 0, "mode=0700"))
		return pr_err_set(err,
				  "bpffs is not mounted at %s and mounting it failed (%s); "
				  "mount it with: mount -t bpf bpf %s",
				  PR_BPFFS_ROOT, strerror(errno), PR_BPFFS_ROOT);
	pr_verbose("mounted bpffs at %s\n", PR_BPFFS_ROOT);
	return 0;
}

const char *pr_pin_dir(void)
{
	return PR_BPFFS_ROOT "/" PR_PIN_DIR_NAME;
}

void pr_pin_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", pr_pin_dir(), name);
}

bool pr_pin_dir_exists(void)
{
	struct stat st;

	return !stat(pr_pin_dir(), &st) && S_ISDIR(st.st_mode);
}

bool pr_state_exists(void)
{
	DIR *d = opendir(pr_pin_dir());
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return found;
}

/*
 * Set when this process's pr_lock() made the pin directory: pr_unlock()
 * removes it again if nothing was pinned in it, so a command that fails (or
 * finds nothing to do) leaves bpffs as it found it.
 */
static bool made_pin_dir;

int pr_lock(int timeout_s, struct pr_errbuf *err)
{
	struct timespec start, now;
	bool told = false;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct stat held, current;
		int fd;

		if (!mkdir(pr_pin_dir(), 0700))
			made_pin_dir = true;
		else if (errno != EEXIST)
			return pr_err_set(err, "cannot create %s: %s", pr_pin_dir(),
					  strerror(errno));
		fd = open(pr_pin_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; /* removed between mkdir and open: go again */
			return pr_err_set(err, "cannot open %s: %s", pr_pin_dir(), strerror(errno));
		}
		if (!flock(fd, LOCK_EX | LOCK_NB)) {
			/* The holder before us may have removed the directory. */
			if (!fstat(fd, &held) && !stat(pr_pin_dir(), &current) &&
			    held.st_ino == current.st_ino && held.st_dev == current.st_dev) {
				/* Made by hand or by another tool: the state is root's alone. */
				if ((held.st_mode & 077) && fchmod(fd, 0700)) {
					close(fd);
					return pr_err_set(err, "cannot make %s private (mode 0700): %s",
							  pr_pin_dir(), strerror(errno));
				}
				return fd;
			}
			close(fd);
			continue;
		}
		close(fd);
		if (errno != EWOULDBLOCK)
			return pr_err_set(err, "cannot lock %s: %s", pr_pin_dir(), strerror(errno));
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= timeout_s)
			return pr_err_set(err,
					  "another xdp-portredir command has held the lock on %s for %d s; try again later",
					  pr_pin_dir(), timeout_s);
		if (!told) {
			pr_verbose("waiting for another xdp-portredir command to finish\n");
			told = true;
		}
		usleep(20000);
	}
}

void pr_unlock(int lock_fd)
{
	/* Still under the lock: nobody can be pinning into it right now. */
	if (lock_fd >= 0 && made_pin_dir && !pr_state_exists())
		rmdir(pr_pin_dir());
	made_pin_dir = false;
	if (lock_fd >= 0)
		close(lock_fd); /* closing drops the flock */
}

int pr_pins_remove(struct pr_errbuf *err)
{
	DIR *d = opendir(pr_pin_dir());
	struct dirent *e;
	char path[512];
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 :
					 pr_err_set(err, "cannot open %s: %s", pr_pin_dir(),
						    strerror(errno));
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		pr_pin_path(path, sizeof(path), e->d_name);
		if (unlink(path) && errno != ENOENT)
			ret = pr_err_set(err, "cannot remove %s: %s", path, strerror(errno));
	}
	closedir(d);
	if (!ret && rmdir(pr_pin_dir()) && errno != ENOENT)
		ret = pr_err_set(err, "cannot remove %s: %s", pr_pin_dir(), strerror(errno));
	return ret;
}
