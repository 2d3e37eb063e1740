// SPDX-License-Identifier: GPL-2.0
/*
 * bpffs_snap DIR: one line per entry under DIR (path, type, mode) and, for
 * every pinned map, a hash of all its keys and values. Two equal outputs
 * mean nothing under DIR changed, byte for byte. bpftool's text dump of the
 * tool's 131072-entry arrays takes minutes on a loaded machine; this reads
 * them with plain syscalls in well under a second.
 */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* Arrays in one batch call each 4096 entries: ~1000x fewer syscalls. */
static int array_hash(int fd, const struct bpf_map_info *info, size_t vsize, uint64_t *h)
{
	__u32 chunk = 4096, in = 0, out = 0, count;
	void *keys = calloc(chunk, info->key_size), *vals = calloc(chunk, vsize);
	bool first = true;
	int err = 0;

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -1;
	}
	for (;;) {
		count = chunk;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count, NULL);
		if (err && errno != ENOENT)
			break;
		*h = fnv(*h, keys, (size_t)count * info->key_size);
		*h = fnv(*h, vals, (size_t)count * vsize);
		if (err) {
			err = 0; /* ENOENT: that was the last batch */
			break;
		}
		in = out;
		first = false;
	}
	free(keys);
	free(vals);
	return err;
}

/* Hash of every (key, value) pair, in the map's own iteration order. */
static int map_hash(int fd, const struct bpf_map_info *info, uint64_t *out)
{
	int ncpus = libbpf_num_possible_cpus();
	size_t vsize = info->value_size;
	uint64_t h = 0xcbf29ce484222325ULL;
	void *key, *next, *val;
	int err;

	if (info->type == BPF_MAP_TYPE_PERCPU_ARRAY || info->type == BPF_MAP_TYPE_PERCPU_HASH ||
	    info->type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
		vsize = ((vsize + 7) & ~(size_t)7) * (size_t)(ncpus > 0 ? ncpus : 1);
	if ((info->type == BPF_MAP_TYPE_ARRAY || info->type == BPF_MAP_TYPE_PERCPU_ARRAY) &&
	    !array_hash(fd, info, vsize, &h)) {
		*out = h;
		return 0;
	}
	h = 0xcbf29ce484222325ULL;
	key = calloc(1, info->key_size ? info->key_size : 1);
	next = calloc(1, info->key_size ? info->key_size : 1);
	val = calloc(1, vsize ? vsize : 1);
	if (!key || !next || !val) {
		free(key);
		free(next);
		free(val);
		return -1;
	}
	for (err = bpf_map_get_next_key(fd, NULL, next); !err;
	     err = bpf_map_get_next_key(fd, key, next)) {
		memcpy(key, next, info->key_size);
		h = fnv(h, key, info->key_size);
		if (!bpf_map_lookup_elem(fd, key, val))
			h = fnv(h, val, vsize);
	}
	free(key);
	free(next);
	free(val);
	*out = h;
	return 0;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	uint64_t h;
	int fd;

	printf("%s %s %o", path, type == FTW_D ? "dir" : "file", st->st_mode & 07777);
	if (type == FTW_F) {
		fd = bpf_obj_get(path);
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) && info.key_size &&
		    !map_hash(fd, &info, &h))
			printf(" map %u %016llx", info.type, (unsigned long long)h);
		if (fd >= 0)
			close(fd);
	}
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bpffs_snap DIR\n");
		return 2;
	}
	libbpf_set_print(NULL);
	if (nftw(argv[1], visit, 16, FTW_PHYS)) {
		fprintf(stderr, "bpffs_snap: cannot walk %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	return 0;
}
