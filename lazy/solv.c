/* lazy/solv.c - the libsolv and libsolvext functions pare calls, loaded on first use (lazy.h).
 * One line a function: library, return type, name, the header's parameters, the call. */
#include <solv/evr.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/problems.h>
#include <solv/repo.h>
#include <solv/repo_deb.h>
#include <solv/repo_solv.h>
#include <solv/repo_write.h>
#include <solv/repodata.h>
#include <solv/rules.h>
#include <solv/solvable.h>
#include <solv/solver.h>
#include <solv/transaction.h>

#include "lazy_int.h"

/* clang-format off */
LAZY(solv, Id, pool_addrelproviders, (Pool *a1, Id a2), (a1, a2))
LAZY(solv, Pool *, pool_create, (), ())
LAZY_VOID(solv, pool_createwhatprovides, (Pool *a1), (a1))
LAZY(solv, char *, pool_errstr, (Pool *a1), (a1))
LAZY(solv, int, pool_evrcmp, (const Pool *a1, Id a2, Id a3, int a4), (a1, a2, a3, a4))
LAZY(solv, int, pool_evrcmp_str, (const Pool *a1, const char *a2, const char *a3, int a4), (a1, a2, a3, a4))
LAZY_VOID(solv, pool_free, (Pool *a1), (a1))
LAZY(solv, const char *, pool_id2str, (const Pool *a1, Id a2), (a1, a2))
LAZY(solv, Id, pool_queuetowhatprovides, (Pool *a1, Queue *a2), (a1, a2))
LAZY(solv, Id, pool_rel2id, (Pool *a1, Id a2, Id a3, int a4, int a5), (a1, a2, a3, a4, a5))
LAZY_VOID(solv, pool_set_installed, (Pool *a1, struct s_Repo *a2), (a1, a2))
LAZY_VOID(solv, pool_setarch, (Pool *a1, const char *a2), (a1, a2))
LAZY(solv, int, pool_setdisttype, (Pool *a1, int a2), (a1, a2))
LAZY(solv, Id, pool_str2id, (Pool *a1, const char *a2, int a3), (a1, a2, a3))
LAZY_VOID(solv, queue_alloc_one, (Queue *a1), (a1))
LAZY_VOID(solv, queue_free, (Queue *a1), (a1))
LAZY_VOID(solv, queue_init, (Queue *a1), (a1))
LAZY(solv, int, repo_add_solv, (Repo *a1, FILE *a2, int a3), (a1, a2, a3))
LAZY(solv, Id, repo_add_solvable, (Repo *a1), (a1))
LAZY(solv, Offset, repo_addid_dep, (Repo *a1, Offset a2, Id a3, Id a4), (a1, a2, a3, a4))
LAZY(solv, Repo *, repo_create, (Pool *a1, const char *a2), (a1, a2))
LAZY_VOID(solv, repo_empty, (Repo *a1, int a2), (a1, a2))
LAZY_VOID(solv, repo_free, (Repo *a1, int a2), (a1, a2))
LAZY_VOID(solv, repo_free_solvable_block, (Repo *a1, Id a2, int a3, int a4), (a1, a2, a3, a4))
LAZY(solv, Repodata *, repo_last_repodata, (Repo *a1), (a1))
LAZY(solv, int, repo_write_stdkeyfilter, (Repo *a1, Repokey *a2, void *a3), (a1, a2, a3))
LAZY_VOID(solv, repodata_internalize, (Repodata *a1), (a1))
LAZY_VOID(solv, repodata_set_bin_checksum, (Repodata *a1, Id a2, Id a3, Id a4, const unsigned char *a5), (a1, a2, a3, a4, a5))
LAZY_VOID(solv, repodata_set_id, (Repodata *a1, Id a2, Id a3, Id a4), (a1, a2, a3, a4))
LAZY_VOID(solv, repodata_set_num, (Repodata *a1, Id a2, Id a3, long long unsigned int a4), (a1, a2, a3, a4))
LAZY_VOID(solv, repodata_set_str, (Repodata *a1, Id a2, Id a3, const char *a4), (a1, a2, a3, a4))
LAZY(solv, Repowriter *, repowriter_create, (Repo *a1), (a1))
LAZY(solv, Repowriter *, repowriter_free, (Repowriter *a1), (a1))
LAZY_VOID(solv, repowriter_set_keyfilter, (Repowriter *a1, int (*a2) (Repo *, Repokey *, void *), void *a3), (a1, a2, a3))
LAZY(solv, int, repowriter_write, (Repowriter *a1, FILE *a2), (a1, a2))
LAZY(solv, const char *, solvable_get_location, (Solvable *a1, unsigned int *a2), (a1, a2))
LAZY(solv, const char *, solvable_lookup_checksum, (Solvable *a1, Id a2, Id *a3), (a1, a2, a3))
LAZY(solv, Id, solvable_lookup_id, (Solvable *a1, Id a2), (a1, a2))
LAZY(solv, long long unsigned int, solvable_lookup_num, (Solvable *a1, Id a2, long long unsigned int a3), (a1, a2, a3))
LAZY(solv, const char *, solvable_lookup_str, (Solvable *a1, Id a2), (a1, a2))
LAZY(solv, Solver *, solver_create, (Pool *a1), (a1))
LAZY(solv, Transaction *, solver_create_transaction, (Solver *a1), (a1))
LAZY_VOID(solv, solver_findallproblemrules, (struct s_Solver *a1, Id a2, Queue *a3), (a1, a2, a3))
LAZY_VOID(solv, solver_free, (Solver *a1), (a1))
LAZY(solv, int, solver_get_decisionlevel, (Solver *a1, Id a2), (a1, a2))
LAZY(solv, const char *, solver_problem2str, (struct s_Solver *a1, Id a2), (a1, a2))
LAZY(solv, unsigned int, solver_problem_count, (struct s_Solver *a1), (a1))
LAZY(solv, int, solver_rule2jobidx, (struct s_Solver *a1, Id a2), (a1, a2))
LAZY(solv, SolverRuleinfo, solver_ruleinfo, (struct s_Solver *a1, Id a2, Id *a3, Id *a4, Id *a5), (a1, a2, a3, a4, a5))
LAZY(solv, const char *, solver_ruleinfo2str, (struct s_Solver *a1, SolverRuleinfo a2, Id a3, Id a4, Id a5), (a1, a2, a3, a4, a5))
LAZY(solv, int, solver_set_flag, (Solver *a1, int a2, int a3), (a1, a2, a3))
LAZY(solv, int, solver_solve, (Solver *a1, Queue *a2), (a1, a2))
LAZY_VOID(solv, transaction_free, (Transaction *a1), (a1))

/* libsolvext */
LAZY(solvext, int, repo_add_debpackages, (Repo *a1, FILE *a2, int a3), (a1, a2, a3))

/* Called by the tests only (tests/unit). */
LAZY(solv, int, repo_write, (Repo *a1, FILE *a2), (a1, a2))
