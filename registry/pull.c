/* pull.c - placeholder until the pull side lands (next commit). */
#include "registry_int.h"

int registry_pull(const char *ref, const char *dir, const struct registry_opts *o,
		  struct registry_pull_result *res, perr *e)
{
	(void)dir, (void)o, (void)res;
	return perr_set(e, "pull %s: not built yet", ref);
}
