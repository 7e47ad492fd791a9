/*
 * self.c - what identifies this pare binary: the GNU build ID the linker
 * stamped into it (a hash of its code and data).  Caches of results that
 * depend on pare's own logic, such as the resolver's memo of solutions, key
 * on it, so a rebuilt pare never trusts an answer an older one computed.
 */
#define _GNU_SOURCE
#include "common.h"

#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

static char *build_id;

/* The first object dl_iterate_phdr reports is the main program. */
static int find_note(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size, (void)arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		size_t left = ph->p_memsz;

		if (ph->p_type != PT_NOTE)
			continue;
		while (left >= sizeof(ElfW(Nhdr))) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			size_t name = (nh->n_namesz + 3) & ~(size_t)3;
			size_t desc = (nh->n_descsz + 3) & ~(size_t)3;
			size_t len = sizeof(*nh) + name + desc;

			if (len > left)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(p + sizeof(*nh), "GNU", 4) && nh->n_descsz > 0) {
				const unsigned char *d = p + sizeof(*nh) + name;
				build_id = xmalloc(2 * nh->n_descsz + 1);
				for (size_t k = 0; k < nh->n_descsz; k++)
					snprintf(build_id + 2 * k, 3, "%02x", d[k]);
				return 1;
			}
			p += len, left -= len;
		}
	}
	return 1; /* only the main program */
}

static void build_id_init(void)
{
	dl_iterate_phdr(find_note, NULL);
}

const char *pare_build_id(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, build_id_init);
	return build_id;
}
