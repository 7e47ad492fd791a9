/* unit-recipe.c - recipe_load: every key, defaults, extends, errors, sha256. */
#include "../../resolver/resolver.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/pare-unit-recipe-XXXXXX";

static char *wr(const char *name, const char *text)
{
	char *p = path_join(dir, name);
	perr e;

	if (write_file_atomic(p, text, strlen(text), 0644, &e) < 0)
		die("%s", e.msg);
	return p;
}

static struct recipe *load(const char *name, const char *text, perr *e)
{
	char *p = wr(name, text);
	struct recipe *r = recipe_load(p, e);

	free(p);
	return r;
}

/* Loading must fail with a message containing want (after the temp dir). */
static void fails(const char *text, const char *want, const char *what)
{
	perr e = { 0 };
	struct recipe *r = load("bad.yaml", text, &e);
	const char *m = e.msg;

	if (!strncmp(m, dir, strlen(dir)))
		m += strlen(dir) + 1;
	TAP_OK(!r && strstr(m, want), "%s", what);
	if (r || !strstr(m, want))
		printf("#   got '%s'\n#   want '%s'\n", r ? "(success)" : m, want);
	recipe_free(r);
}

static const char *find_env(const struct recipe *r, size_t i)
{
	return i < r->env.n ? r->env.v[i] : "(none)";
}

static void test_full(void)
{
	perr e;
	struct recipe *r = load("full.yaml",
		"name: full-1.0\n"
		"description: every key\n"
		"repositories:\n"
		"  - url: file:///srv/repo/\n"
		"    suites: [stable, stable-updates]\n"
		"    components: [main]\n"
		"    keyring: keys/repo.gpg\n"
		"    trusted: false\n"
		"archs: [arm64, amd64]\n"
		"packages:\n"
		"  - hello\n"
		"  - libc6 (>= 2.36-9)\n"
		"  - tzdata=2024a-0+deb12u1\n"
		"  - 'foo (<< 1:2.0~rc1+b1)'\n"
		"exclude: [bash]\n"
		"assume: [libfoo1]\n"
		"accounts:\n"
		"  users:\n"
		"    - {name: app, uid: 1000, gid: 1001, home: /srv//app/, shell: /bin/false}\n"
		"  groups:\n"
		"    - {name: app, gid: 1001, members: [app]}\n"
		"  run-as: app\n"
		"entrypoint: [/usr/bin/hello, --greeting]\n"
		"cmd: world\n"
		"env:\n"
		"  PATH: /usr/bin:/bin\n"
		"  LANG: C.UTF-8\n"
		"  A_1: '2'\n"
		"workdir: /srv/./app\n"
		"labels: {org.opencontainers.image.title: hello}\n"
		"annotations:\n"
		"  a: b\n"
		"paths:\n"
		"  - {path: /var/lib/app, type: directory, mode: '0750', uid: 1000, gid: 1001}\n"
		"  - {path: /usr/bin/hi, type: symlink, target: hello}\n"
		"  - {path: /var/cache, type: permissions, mode: 1777, recursive: true}\n"
		"strip: ['/usr/share/doc/*']\n"
		"keep: ['/usr/share/zoneinfo/*']\n"
		"allow: [shell, setuid, world-writable]\n", &e);

	TAP_OK(r != NULL, "a recipe with every key loads%s%s", r ? "" : ": ", r ? "" : e.msg);
	if (!r)
		return;
	TAP_STREQ(r->name, "full-1.0", "name");
	TAP_STREQ(r->description, "every key", "description");
	TAP_OK(r->nrepos == 1 && !r->repos_from_host, "one repository, not from host");
	TAP_STREQ(r->repos[0].url, "file:///srv/repo", "repository url loses its trailing slash");
	TAP_OK(r->repos[0].suites.n == 2 && !strcmp(r->repos[0].suites.v[1], "stable-updates"),
	       "suites");
	TAP_OK(r->repos[0].components.n == 1, "components");
	TAP_OK(r->repos[0].keyring && str_ends(r->repos[0].keyring, "/keys/repo.gpg") &&
		       str_starts(r->repos[0].keyring, dir),
	       "relative keyring is relative to the recipe file");
	TAP_OK(r->archs.n == 2 && !strcmp(r->archs.v[0], "amd64"), "archs sorted");
	TAP_OK(r->npackages == 4, "four packages");
	TAP_OK(!r->packages[0].op && !r->packages[0].version, "plain name has no constraint");
	TAP_OK(!strcmp(r->packages[1].op, ">=") && !strcmp(r->packages[1].version, "2.36-9"),
	       "name (>= version)");
	TAP_OK(!strcmp(r->packages[2].op, "=") && !strcmp(r->packages[2].version, "2024a-0+deb12u1"),
	       "name=version");
	TAP_OK(!strcmp(r->packages[3].op, "<<") && !strcmp(r->packages[3].version, "1:2.0~rc1+b1"),
	       "epoch, tilde and plus in a version");
	TAP_OK(sv_contains(&r->exclude, "bash"), "exclude");
	TAP_OK(sv_contains(&r->assume, "libfoo1") && sv_contains(&r->assume, "dpkg"),
	       "assume extends the default list");
	TAP_OK(r->nusers == 2 && !strcmp(r->users[0].name, "nonroot") &&
		       !strcmp(r->users[1].name, "app") && r->users[1].uid == 1000 &&
		       r->users[1].gid == 1001,
	       "users: nonroot kept next to the recipe's own");
	TAP_STREQ(r->users[1].home, "/srv/app", "home is normalised");
	TAP_STREQ(r->users[1].shell, "/bin/false", "shell");
	TAP_OK(r->ngroups == 2 && r->groups[1].gid == 1001 && r->groups[1].members.n == 1,
	       "groups with members");
	TAP_STREQ(r->run_as, "app", "run-as");
	TAP_OK(r->has_entrypoint && r->entrypoint.n == 2 &&
		       !strcmp(r->entrypoint.v[1], "--greeting"),
	       "entrypoint list");
	TAP_OK(r->has_cmd && r->cmd.n == 1 && !strcmp(r->cmd.v[0], "world"),
	       "cmd as a string is one argument");
	TAP_OK(r->env.n == 3, "three env entries");
	TAP_STREQ(find_env(r, 0), "PATH=/usr/bin:/bin", "env keeps recipe order (1)");
	TAP_STREQ(find_env(r, 1), "LANG=C.UTF-8", "env keeps recipe order (2)");
	TAP_STREQ(find_env(r, 2), "A_1=2", "env keeps recipe order (3)");
	TAP_STREQ(r->workdir, "/srv/app", "workdir normalised");
	TAP_OK(r->nlabels == 1 && !strcmp(r->labels[0].key, "org.opencontainers.image.title"),
	       "labels");
	TAP_OK(r->nannotations == 1 && !strcmp(r->annotations[0].value, "b"), "annotations");
	TAP_OK(r->npaths == 3 && r->paths[0].type == RPATH_DIR && r->paths[0].mode == 0750 &&
		       r->paths[0].uid == 1000 && r->paths[0].gid == 1001,
	       "directory path with octal string mode");
	TAP_OK(r->paths[1].type == RPATH_SYMLINK && !strcmp(r->paths[1].target, "hello") &&
		       r->paths[1].mode == -1 && r->paths[1].uid == -1,
	       "symlink path, defaults -1");
	TAP_OK(r->paths[2].type == RPATH_PERMISSIONS && r->paths[2].mode == 01777 &&
		       r->paths[2].recursive,
	       "permissions path, integer mode read as octal");
	TAP_OK(r->strip.n == 1 && r->keep.n == 1, "strip and keep");
	TAP_OK(r->allow.n == 3 && sv_contains(&r->allow, "setuid"), "allow");
	TAP_OK(r->sha256 && is_sha256_hex(r->sha256), "sha256 is filled");
	TAP_OK(r->path && str_ends(r->path, "/full.yaml"), "path is the file");
	recipe_free(r);
}

static void test_defaults(void)
{
	perr e;
	struct recipe *r = load("min.yaml", "name: min\npackages: [hello]\n", &e);
	size_t i;

	TAP_OK(r != NULL, "minimal recipe loads");
	if (!r)
		return;
	TAP_OK(r->repos_from_host && r->nrepos == 0, "no repositories: host sources");
	TAP_OK(r->archs.n == 1 && !strcmp(r->archs.v[0], resolver_host_arch()), "default arch is the host's");
	for (i = 0; recipe_default_assume[i]; i++)
		if (!sv_contains(&r->assume, recipe_default_assume[i]))
			break;
	TAP_OK(!recipe_default_assume[i], "every default assumption is in assume");
	TAP_OK(sv_contains(&r->assume, "dpkg") && sv_contains(&r->assume, "coreutils") &&
		       sv_contains(&r->assume, "bash") && !sv_contains(&r->assume, "base-files"),
	       "defaults: dpkg, coreutils, bash assumed; base-files is not");
	TAP_OK(r->nusers == 1 && !strcmp(r->users[0].name, "nonroot") &&
		       r->users[0].uid == 65532 && r->users[0].gid == 65532,
	       "default user nonroot 65532");
	TAP_OK(r->ngroups == 1 && !strcmp(r->groups[0].name, "nonroot") &&
		       r->groups[0].gid == 65532,
	       "default group nonroot 65532");
	TAP_STREQ(r->run_as, "65532", "default run-as");
	TAP_OK(!r->has_entrypoint && !r->has_cmd && !r->workdir, "no entrypoint/cmd/workdir");
	recipe_free(r);

	r = load("nodef.yaml", "name: nodef\nassume_defaults: false\nassume: [dpkg]\n"
			       "packages: [hello]\n", &e);
	TAP_OK(r && r->assume.n == 1 && !strcmp(r->assume.v[0], "dpkg"),
	       "assume_defaults: false drops the default list");
	recipe_free(r);
	r = load("empty-lists.yaml", "name: e\npackages: [hello]\nexclude:\nstrip: ~\n", &e);
	TAP_OK(r && !r->exclude.n && !r->strip.n, "empty values are empty lists");
	recipe_free(r);
	{ const char *t = "name: mem\npackages: [hello]"; r = recipe_load_buf("/nonexistent/mem.yaml", t, strlen(t), &e); }
	TAP_OK(r && !strcmp(r->name, "mem"), "recipe_load_buf loads from memory");
	recipe_free(r);
}

/* tags: order kept (the first is the ref name), validated, not inherited,
 * and in the hash only when set (recipes without tags keep their sha256). */
static void test_tags(void)
{
	perr e;
	struct recipe *r;
	char *plain;

	r = load("t.yaml", "name: t\npackages: [hello]\n", &e);
	plain = r ? xstrdup(r->sha256) : NULL;
	recipe_free(r);
	r = load("t.yaml", "name: t\npackages: [hello]\ntags: [\"3.11\", stable, 3]\n", &e);
	TAP_OK(r && r->tags.n == 3 && !strcmp(r->tags.v[0], "3.11") && !strcmp(r->tags.v[2], "3"),
	       "tags: loaded in order%s%s", r ? "" : ": ", r ? "" : e.msg);
	TAP_OK(r && plain && strcmp(r->sha256, plain), "tags: part of the sha256 when set");
	recipe_free(r);
	r = load("t.yaml", "name: t\npackages: [hello]\ntags: []\n", &e);
	TAP_STREQ(r ? r->sha256 : NULL, plain, "tags: an empty list leaves the sha256 as it was");
	recipe_free(r);
	r = load("t.yaml", "name: t\npackages: [hello]\ntags: [ok, \"a b\"]\n", &e);
	TAP_OK(!r && strstr(e.msg, "t.yaml:3") && strstr(e.msg, "invalid tag"),
	       "tags: an invalid tag names file:line (%s)", r ? "loaded" : e.msg);
	recipe_free(r);
	free(wr("_tparent.yaml", "name: p\npackages: [hello]\ntags: [parent]\n"));
	r = load("tchild.yaml", "extends: _tparent.yaml\nname: c\n", &e);
	TAP_OK(r && r->tags.n == 0, "tags: not inherited through extends");
	recipe_free(r);
	r = load("tchild.yaml", "extends: _tparent.yaml\nname: c\ntags: [child]\n", &e);
	TAP_OK(r && r->tags.n == 1 && !strcmp(r->tags.v[0], "child"), "tags: the child's own only");
	recipe_free(r);
	free(plain);
}

/* strict: a bool, overridden through extends, in the hash only when true;
 * allow: [missing-interpreter] is known. */
static void test_strict(void)
{
	perr e;
	struct recipe *r;
	char *plain;

	r = load("s.yaml", "name: s\npackages: [hello]\n", &e);
	plain = r ? xstrdup(r->sha256) : NULL;
	TAP_OK(r && !r->strict, "strict: off by default");
	recipe_free(r);
	r = load("s.yaml", "name: s\npackages: [hello]\nstrict: true\n", &e);
	TAP_OK(r && r->strict, "strict: true loads%s%s", r ? "" : ": ", r ? "" : e.msg);
	TAP_OK(r && plain && strcmp(r->sha256, plain), "strict: part of the sha256 when true");
	recipe_free(r);
	r = load("s.yaml", "name: s\npackages: [hello]\nstrict: false\n", &e);
	TAP_STREQ(r ? r->sha256 : NULL, plain, "strict: false leaves the sha256 as it was");
	recipe_free(r);
	free(wr("_sparent.yaml", "name: p\npackages: [hello]\nstrict: true\n"));
	r = load("schild.yaml", "extends: _sparent.yaml\nname: c\n", &e);
	TAP_OK(r && r->strict, "strict: inherited through extends");
	recipe_free(r);
	r = load("schild.yaml", "extends: _sparent.yaml\nname: c\nstrict: false\n", &e);
	TAP_OK(r && !r->strict, "strict: the child's value overrides the parent's");
	recipe_free(r);
	r = load("s.yaml", "name: s\npackages: [hello]\nallow: [missing-interpreter]\n", &e);
	TAP_OK(r && sv_contains(&r->allow, "missing-interpreter"),
	       "allow: [missing-interpreter] is known%s%s", r ? "" : ": ", r ? "" : e.msg);
	recipe_free(r);
	fails("name: x\npackages: [a1]\nstrict: maybe\n", "bad.yaml:3:9: strict: expected true or false",
	      "strict: not a bool names file:line:col");
	free(plain);
}

static void test_extends(void)
{
	perr e;
	struct recipe *r, *r2;
	char *sha1, *p;

	free(wr("_parent.yaml",
		"name: parent\n"
		"description: from parent\n"
		"packages: [base-files, 'libc6 (>= 2.36)']\n"
		"assume: [openssl]\n"
		"env: {A: '1', B: '2'}\n"
		"labels: {x: parent, y: parent}\n"
		"entrypoint: [/bin/parent]\n"
		"strip: [/a]\n"));
	r = load("child.yaml",
		 "extends: _parent.yaml\n"
		 "name: child\n"
		 "packages: [libssl3, libc6=2.36-9]\n"
		 "env: {C: '4', B: '3'}\n"
		 "labels: {y: child}\n"
		 "entrypoint: /bin/child\n"
		 "strip: [/b]\n", &e);
	TAP_OK(r != NULL, "child extends parent%s%s", r ? "" : ": ", r ? "" : e.msg);
	if (!r)
		return;
	TAP_STREQ(r->name, "child", "scalar override: name");
	TAP_STREQ(r->description, "from parent", "unset scalar is inherited");
	TAP_OK(r->npackages == 3 && !strcmp(r->packages[0].name, "base-files") &&
		       !strcmp(r->packages[2].name, "libssl3"),
	       "lists append: packages");
	TAP_OK(!strcmp(r->packages[1].op, "=") && !strcmp(r->packages[1].version, "2.36-9"),
	       "a package named again replaces the parent's constraint");
	TAP_OK(sv_contains(&r->assume, "openssl") && sv_contains(&r->assume, "dpkg"),
	       "parent's assume plus defaults");
	TAP_OK(r->env.n == 3, "maps merge: env");
	TAP_STREQ(find_env(r, 0), "A=1", "env order: parent's first");
	TAP_STREQ(find_env(r, 1), "B=3", "env order: overridden key keeps its place");
	TAP_STREQ(find_env(r, 2), "C=4", "env order: new key last");
	TAP_OK(r->nlabels == 2 && !strcmp(r->labels[1].value, "child") &&
		       !strcmp(r->labels[0].value, "parent"),
	       "maps merge: labels");
	TAP_OK(r->entrypoint.n == 1 && !strcmp(r->entrypoint.v[0], "/bin/child"),
	       "entrypoint overrides, not appends");
	TAP_OK(r->strip.n == 2, "strip lists append");
	sha1 = xstrdup(r->sha256);
	recipe_free(r);

	r = load("child.yaml",
		 "extends: _parent.yaml\n"
		 "name: child\n"
		 "packages: [libssl3, libc6=2.36-9]\n"
		 "env: {C: '4', B: '3'}\n"
		 "labels: {y: child}\n"
		 "entrypoint: /bin/child\n"
		 "strip: [/b]\n", &e);
	TAP_STREQ(r ? r->sha256 : NULL, sha1, "sha256 is deterministic");
	recipe_free(r);

	/* Same child, parent changed in one description byte. */
	free(wr("_parent.yaml",
		"name: parent\n"
		"description: from parenT\n"
		"packages: [base-files, 'libc6 (>= 2.36)']\n"
		"assume: [openssl]\n"
		"env: {A: '1', B: '2'}\n"
		"labels: {x: parent, y: parent}\n"
		"entrypoint: [/bin/parent]\n"
		"strip: [/a]\n"));
	p = path_join(dir, "child.yaml");
	r = recipe_load(p, &e);
	TAP_OK(r && strcmp(r->sha256, sha1), "sha256 changes when the parent changes");
	recipe_free(r);
	free(p);

	/* Same content in another key order: YAML order does not matter for
	 * scalars, but env order does. */
	r = load("child2.yaml",
		 "name: child\n"
		 "extends: _parent.yaml\n"
		 "packages: [libssl3, libc6=2.36-9]\n"
		 "env: {B: '3', C: '4'}\n"
		 "labels: {y: child}\n"
		 "entrypoint: /bin/child\n"
		 "strip: [/b]\n", &e);
	r2 = load("child3.yaml",
		  "name: child\n"
		  "extends: _parent.yaml\n"
		  "packages: [libssl3, libc6=2.36-9]\n"
		  "env: {C: '4', B: '3'}\n"
		  "labels: {y: child}\n"
		  "entrypoint: /bin/child\n"
		  "strip: [/b]\n", &e);
	TAP_OK(r && r2 && !strcmp(r->sha256, r2->sha256),
	       "moving a top-level key does not change sha256 (env of parent fixes order)");
	recipe_free(r);
	recipe_free(r2);
	r = load("child4.yaml", "name: child\nextends: _parent.yaml\nenv: {Z: '1', Y: '2'}\n", &e);
	r2 = load("child5.yaml", "name: child\nextends: _parent.yaml\nenv: {Y: '2', Z: '1'}\n", &e);
	TAP_OK(r && r2 && strcmp(r->sha256, r2->sha256), "env order changes sha256");
	recipe_free(r);
	recipe_free(r2);
	free(sha1);

	/* Three levels. */
	free(wr("_grand.yaml", "packages: [tzdata]\naccounts: {run-as: '1000:1000'}\n"));
	free(wr("_mid.yaml", "extends: _grand.yaml\npackages: [netbase]\n"));
	r = load("leaf.yaml", "extends: ./_mid.yaml\nname: leaf\n", &e);
	TAP_OK(r && r->npackages == 2 && !strcmp(r->run_as, "1000:1000"),
	       "extends chains over three files");
	recipe_free(r);

	/* Cycles. */
	free(wr("_c1.yaml", "extends: _c2.yaml\npackages: [a1]\n"));
	free(wr("_c2.yaml", "extends: _c1.yaml\n"));
	fails("name: c\nextends: _c1.yaml\n", "cycle", "an extends cycle is an error");
	fails("name: c\nextends: bad.yaml\npackages: [a1]\n", "bad.yaml:2:10: extends: cycle",
	      "a recipe extending itself is a cycle at the extends line");
	fails("name: c\nextends: _missing.yaml\n", "bad.yaml:2:10: extends: cannot open",
	      "a missing parent names the extends line");

	/* Errors inside the parent name the parent. */
	free(wr("_broken.yaml", "packages: [a1]\n\n  # comment\nbogus: 1\n"));
	fails("name: c\nextends: _broken.yaml\n", "_broken.yaml:4:1: unknown key 'bogus'",
	      "an error in the parent names the parent file and line");
}

static void test_errors(void)
{
	fails("name: x\npackages: [a1]\n\nfoo: 1\n", "bad.yaml:4:1: unknown key 'foo'",
	      "unknown key at line:col");
	fails("name: x\npackages: [a1]\npaths:\n  - path: /a\n    type: directory\n    colour: red\n",
	      "bad.yaml:6:5: unknown key 'colour' in path", "unknown nested key at line:col");
	fails("name: x\npackages: {a1: b}\n", "bad.yaml:2:11: packages: expected a list, got a map",
	      "a map where a list is expected");
	fails("name: x\npackages: a1\n", "bad.yaml:2:11: packages: expected a list, got a scalar",
	      "a string where a list is expected");
	fails("name: [x]\npackages: [a1]\n", "bad.yaml:1:7: name: expected a string, got a list",
	      "a list where a string is expected");
	fails("name: x\nenv: [A=1]\npackages: [a1]\n", "bad.yaml:2:6: env: expected a map",
	      "a list where a map is expected");
	fails("name: x\npackages:\n  - python3 (>> )\n",
	      "bad.yaml:3:5: invalid package 'python3 (>> )': missing version",
	      "python3 (>> ) is an error");
	fails("name: x\npackages:\n  - foo (=> 1)\n",
	      "bad.yaml:3:5: invalid package 'foo (=> 1)': invalid operator",
	      "foo (=> 1) is an error");
	fails("name: x\npackages: [foo (< 1)]\n", "invalid operator", "the old '<' is refused");
	fails("name: x\npackages: [foo (>= 1.0]\n", "missing ')'", "unclosed constraint");
	fails("name: x\npackages: ['foo (>= a1)']\n", "must start with a digit",
	      "upstream version starts with a digit");
	fails("name: x\npackages: ['foo (= 1.0-)']\n", "empty debian revision",
	      "empty debian revision");
	fails("name: x\npackages: ['foo=x:1.0']\n", "epoch must be a number", "epoch is numeric");
	fails("name: x\npackages: ['foo (= 1.0_1)']\n", "invalid character", "'_' is not in versions");
	fails("name: x\npackages: ['foo (= 1.0-1) x']\n", "unexpected text", "text after ')'");
	fails("name: x\npackages: [Foo]\n", "invalid package name", "upper case is no package name");
	fails("name: x\npackages: [a]\n", "invalid package name", "one letter is no package name");
	fails("name: x\npackages: [foo_bar]\n", "invalid package name", "'_' is not in package names");
	fails("name: x\npackages: [-foo]\n", "invalid package name", "names start alphanumeric");
	fails("name: x\npackages: ['foo:amd64']\n", "architecture qualifiers",
	      "arch qualifiers are refused");
	fails("name: x\npackages: [a1]\nexclude: [B_x]\n", "bad.yaml:3:11: exclude: 'B_x': invalid package name",
	      "exclude names are validated");
	fails("name: x\npackages: [a1, a1]\n", "listed twice", "a package listed twice");
	fails("name: x\npackages: [a1]\nname: y\n", "bad.yaml:3:1: duplicate key 'name' (first at line 1)",
	      "duplicate top-level key");
	fails("name: x\npackages: [a1]\nenv: {A: '1', A: '2'}\n", "bad.yaml:3:15: duplicate key 'A'",
	      "duplicate env key");
	fails("packages: [a1]\n", "bad.yaml:1:1: missing required key 'name'", "name is required");
	fails("name: Bad\npackages: [a1]\n", "bad.yaml:1:7: name: 'Bad'", "name syntax");
	fails("name: \"a\\nb\\tc\"\npackages: [a1]\n", "name: 'a\\nb\\tc'",
	      "control characters in messages are escaped: errors stay one line");
	/* recipe text quoted as pare quotes names everywhere (sb_add_quoted): an ESC and a
	 * newline escaped, a backslash too (so "\\x1b" in a key is not taken for an ESC) */
	fails("name: x\npackages: [a1]\n\"x\\e[31m\\ny\\\\x1bz\": 1\n",
	      "bad.yaml:3:1: unknown key 'x\\x1b[31m\\ny\\\\x1bz'",
	      "an unknown key with an ESC, a newline and a backslash is quoted escaped");
	{
		char text[400], want[300];

		snprintf(text, sizeof(text), "name: x\npackages: [a1]\nrepositories:\n  - url: file:///r\n"
			 "    %0300d: 1\n", 0);
		snprintf(want, sizeof(want), "unknown key '%0200d...' in repository", 0);
		fails(text, want, "a long unknown key is cut after 200 bytes");
	}
	fails("name: x\n", "lists no packages", "a recipe without packages");
	fails("", "bad.yaml:1:1: empty recipe", "an empty file");
	fails("- a\n", "bad.yaml:1:1: a recipe is a map", "a list at the top");
	fails("name: x\npackages: [a1\n", "bad.yaml:3:1:", "a yaml syntax error names line:col");
	fails("name: &n x\npackages: [*n]\n", "bad.yaml:2:12: aliases are not supported",
	      "aliases are refused");
	fails("name: x\npackages: [a1]\n---\nname: y\n", "one yaml document",
	      "a second document is refused");
	fails("name: x\npackages: [a1]\naccounts:\n  users: [{name: root, uid: 5}]\n",
	      "bad.yaml:4:18: user 'root' is always generated", "root cannot be redefined");
	fails("name: x\npackages: [a1]\naccounts:\n  groups: [{name: nobody, gid: 5}]\n",
	      "always generated", "nobody cannot be redefined");
	fails("name: x\npackages: [a1]\naccounts:\n  users: [{name: a, uid: 0}]\n",
	      "reserved", "uid 0 is reserved");
	fails("name: x\npackages: [a1]\naccounts:\n  users: [{name: a}]\n", "missing 'uid'",
	      "a user needs a uid");
	fails("name: x\npackages: [a1]\naccounts:\n  run-as: ghost\n", "unknown user 'ghost'",
	      "run-as names a defined user");
	fails("name: x\npackages: [a1]\naccounts:\n  run-as: '1:x'\n", "UID[:GID]",
	      "run-as uid:gid syntax");
	fails("name: x\npackages: [a1]\npaths: [{path: /a/../b, type: directory}]\n",
	      "'..' is not allowed", "'..' in paths");
	fails("name: x\npackages: [a1]\npaths: [{path: a, type: directory}]\n",
	      "must be absolute", "relative paths");
	fails("name: x\npackages: [a1]\npaths: [{path: /a, type: symlink}]\n",
	      "needs a 'target'", "symlink without target");
	fails("name: x\npackages: [a1]\npaths: [{path: /a, type: fifo}]\n",
	      "expected directory, symlink or permissions", "unknown path type");
	fails("name: x\npackages: [a1]\npaths: [{path: /a, type: directory, mode: '0789'}]\n",
	      "bad.yaml:3:43: mode: expected an octal number", "mode must be octal");
	fails("name: x\npackages: [a1]\npaths: [{path: /a, type: directory, recursive: true}]\n",
	      "only for permissions", "recursive only for permissions");
	fails("name: x\npackages: [a1]\nallow: [sudo]\n", "unknown permission", "allow values");
	fails("name: x\npackages: [a1]\nenv: {1A: x}\n", "invalid variable name", "env names");
	fails("name: x\npackages: [a1]\nenv: {A: {b: c}}\n", "A: expected a string, got a map",
	      "env values are strings");
	fails("name: x\npackages: [a1]\nassume_defaults: maybe\n", "expected true or false",
	      "booleans");
	fails("name: x\npackages: [a1]\nrepositories: [{url: ftp://x, suites: [s]}]\n",
	      "only http://, https:// and file://", "repository url schemes");
	fails("name: x\npackages: [a1]\nrepositories: [{url: 'http://127.0.0.1/'}]\n",
	      "missing 'suites'", "repository needs suites");
	fails("name: x\npackages: [a1]\nexclude: [a1]\n", "both requested and excluded",
	      "requested and excluded");
	fails("name: x\npackages: [a1]\nstrip: [usr/share]\n", "globs must be absolute",
	      "strip globs are absolute");
	fails("name: x\npackages: [\"a1\\0\"]\n", "NUL", "NUL bytes in strings");
	fails("name: x\npackages: [a1]\n? [k]\n: v\n", "keys must be strings", "non-scalar keys");
	fails("name: x\npackages: [a1]\nl: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	      "nested too deeply", "deep nesting is refused");
}

static void loads(const char *text, const char *what)
{
	perr e = { 0 };
	struct recipe *r = load("good.yaml", text, &e);

	TAP_OK(r != NULL, "%s%s%s", what, r ? "" : ": ", r ? "" : e.msg);
	recipe_free(r);
}

/* Each refusal names file:line:col; the same recipe with the allow loads. */
static void refused_unless(const char *body, const char *perm, const char *want,
			   const char *what)
{
	char *t = xasprintf("name: x\npackages: [a1]\n%s", body);
	char *w = xasprintf("(needs allow: [%s])", perm);
	char *ok = xasprintf("%sallow: [%s]\n", t, perm);

	fails(t, want, what);
	fails(t, w, what);
	loads(ok, what);
	free(t), free(w), free(ok);
}

static void test_policy(void)
{
	char *sub = path_join(dir, "sub"), *lnk;
	perr e = { 0 };
	struct recipe *r;

	/* extends stays inside the recipe's directory */
	lnk = path_join(sub, "sub2");
	if (mkdir(sub, 0755) < 0 || mkdir(lnk, 0755) < 0)
		die("mkdir %s", lnk);
	free(lnk);
	free(wr("_outside.yaml", "secret-token: hunter2\npackages: [a1]\n"));
	free(wr("sub/_in.yaml", "packages: [a1]\n"));
	lnk = path_join(sub, "_link.yaml");
	if (symlink("../_outside.yaml", lnk) < 0)
		die("symlink %s", lnk);
	free(lnk);
	r = load("sub/c.yaml", "name: c\nextends: _in.yaml\n", &e);
	TAP_OK(r != NULL, "extends inside the directory loads%s%s", r ? "" : ": ", r ? "" : e.msg);
	recipe_free(r);
	r = load("sub/c.yaml", "name: c\nextends: ../_outside.yaml\n", &e);
	TAP_OK(!r && strstr(e.msg, "c.yaml:2:10: extends: '../_outside.yaml' is outside") &&
		       !strstr(e.msg, "secret") && !strstr(e.msg, "hunter2"),
	       "extends ../x is refused, the file is not quoted: %s", r ? "(success)" : e.msg);
	recipe_free(r);
	r = load("sub/c.yaml", "name: c\nextends: _link.yaml\n", &e);
	TAP_OK(!r && strstr(e.msg, "c.yaml:2:10: extends: '_link.yaml' is outside") &&
		       !strstr(e.msg, "secret"),
	       "extends through a symlink leaving the directory is refused: %s",
	       r ? "(success)" : e.msg);
	recipe_free(r);
	r = load("sub/c.yaml", "name: c\nextends: sub2/../../_outside.yaml\n", &e);
	TAP_OK(!r && strstr(e.msg, "is outside") && !strstr(e.msg, "secret"),
	       "extends dir/../../x is refused: %s",
	       r ? "(success)" : e.msg);
	recipe_free(r);
	fails("name: c\nextends: /etc/passwd\n",
	      "bad.yaml:2:10: extends: '/etc/passwd': expected a .yaml file relative to this one",
	      "extends an absolute path is refused");
	fails("name: c\nextends: /etc/shadow\n", "bad.yaml:2:10: extends: '/etc/shadow'",
	      "extends /etc/shadow is refused before it is opened");
	free(wr("_notes.txt", "token: hunter2\n"));
	fails("name: c\nextends: _notes.txt\n", "expected a .yaml file",
	      "extends a file that is not .yaml is refused");
	free(sub);

	/* run-as root only with allow: [root]; ids up to 2^31-1 */
	refused_unless("accounts: {run-as: root}\n", "root",
		       "bad.yaml:3:20: run-as: 'root' runs the image as root", "run-as: root");
	refused_unless("accounts: {run-as: '0'}\n", "root", "run-as: '0' runs the image as root",
		       "run-as: 0");
	refused_unless("accounts: {run-as: '0:0'}\n", "root", "run-as: '0:0' runs", "run-as: 0:0");
	refused_unless("accounts: {run-as: '0:1000'}\n", "root", "run-as: '0:1000' runs",
		       "run-as: 0:1000");
	refused_unless("accounts: {run-as: '1000:0'}\n", "root", "run-as: '1000:0' runs",
		       "run-as: 1000:0 (gid root)");
	refused_unless("accounts: {run-as: '000'}\n", "root", "run-as: '000' runs", "run-as: 000");
	fails("name: x\npackages: [a1]\naccounts: {run-as: 'root:root'}\n", "bad.yaml:3:20: run-as",
	      "run-as: root:root is refused");
	fails("name: x\npackages: [a1]\naccounts: {run-as: '2147483648'}\n",
	      "bad.yaml:3:20: run-as: '2147483648': uids and gids go up to 2147483647",
	      "run-as uid 2^31 is refused");
	fails("name: x\npackages: [a1]\naccounts: {run-as: '1000:4294967295'}\n",
	      "uids and gids go up to", "run-as gid 2^32-1 is refused");
	fails("name: x\npackages: [a1]\naccounts: {run-as: '4294967296'}\n",
	      "uids and gids go up to", "run-as uid 2^32 is refused");
	fails("name: x\npackages: [a1]\naccounts: {run-as: '4294967296'}\nallow: [root]\n",
	      "uids and gids go up to", "allow: [root] does not take an out-of-range uid");
	fails("name: x\npackages: [a1]\naccounts: {run-as: '-1'}\n", "run-as: '-1': expected",
	      "run-as -1 is refused");
	fails("name: x\npackages: [a1]\naccounts: {run-as: '1000:x1'}\n", "run-as: '1000:x1'",
	      "run-as junk gid is refused");
	loads("name: x\npackages: [a1]\naccounts: {run-as: '2147483647:2147483647'}\n",
	      "run-as 2^31-1 loads");
	fails("name: x\npackages: [a1]\naccounts: {users: [{name: a, uid: 2147483648}]}\n",
	      "uid: expected a number up to 2147483647", "user uid 2^31 is refused");
	fails("name: x\npackages: [a1]\npaths: [{path: /a, type: directory, gid: 4294967295}]\n",
	      "gid: expected a number up to 2147483647", "path gid 2^32-1 is refused");
	/* a child may drop the parent's root; the parent's allow counts */
	free(wr("_root.yaml", "accounts: {run-as: root}\npackages: [a1]\n"));
	fails("name: c\nextends: _root.yaml\n", "_root.yaml:1:20: run-as: 'root' runs the image as root",
	      "run-as: root in an extended file names that file");
	loads("name: c\nextends: _root.yaml\naccounts: {run-as: '1000'}\n",
	      "a child's run-as replaces the parent's root");
	free(wr("_rootok.yaml", "accounts: {run-as: root}\npackages: [a1]\nallow: [root]\n"));
	loads("name: c\nextends: _rootok.yaml\n", "allow: [root] in the parent counts");

	/* modes */
	refused_unless("paths: [{path: /usr/bin/x, type: permissions, mode: '4755'}]\n", "setuid",
		       "bad.yaml:3:53: path '/usr/bin/x': mode 4755 sets setuid/setgid",
		       "mode 4755");
	refused_unless("paths: [{path: /usr/bin/x, type: permissions, mode: '2755'}]\n", "setuid",
		       "mode 2755 sets setuid/setgid", "mode 2755");
	refused_unless("paths: [{path: /srv/x, type: directory, mode: '0777'}]\n",
		       "world-writable", "bad.yaml:3:47: path '/srv/x': mode 0777 is world-writable",
		       "mode 0777");
	refused_unless("paths: [{path: /srv/x, type: permissions, mode: '0666'}]\n",
		       "world-writable", "mode 0666 is world-writable", "mode 0666");
	refused_unless("paths: [{path: /srv/x, type: permissions, mode: '0002'}]\n",
		       "world-writable", "mode 0002 is world-writable", "mode 0002");
	refused_unless("paths: [{path: /srv/x, type: permissions, mode: '1777', recursive: true}]\n",
		       "world-writable", "mode 1777 is world-writable",
		       "mode 1777 recursive (files are not protected by the sticky bit)");
	refused_unless("paths: [{path: /usr/bin, type: directory, mode: '1777'}]\n",
		       "world-writable", "path '/usr/bin': mode 1777 is world-writable",
		       "mode 1777 on a system path");
	loads("name: x\npackages: [a1]\npaths: [{path: /tmp, type: directory, mode: '1777'}]\n",
	      "mode 1777 on /tmp loads");
	loads("name: x\npackages: [a1]\npaths: [{path: /var/cache/x, type: permissions, mode: '1777'}]\n",
	      "mode 1777 on a non-system directory loads");

	/* system directories given away */
	refused_unless("paths: [{path: /, type: permissions, uid: 65532}]\n", "nonroot-system-dirs",
		       "bad.yaml:3:43: path '/': a system path given to uid 65532 gid 0",
		       "owner 65532 on /");
	refused_unless("paths: [{path: /etc, type: directory, gid: 65532}]\n",
		       "nonroot-system-dirs", "path '/etc': a system path", "group 65532 on /etc");
	refused_unless("paths: [{path: /usr/, type: permissions, uid: 1000, recursive: true}]\n",
		       "nonroot-system-dirs", "path '/usr': a system path", "owner on /usr/");
	refused_unless("paths: [{path: /bin, type: permissions, uid: 65532}]\n",
		       "nonroot-system-dirs", "path '/bin': a system path", "owner on /bin");
	refused_unless("paths: [{path: /sbin, type: permissions, uid: 65532}]\n",
		       "nonroot-system-dirs", "path '/sbin': a system path", "owner on /sbin");
	refused_unless("paths: [{path: /lib64, type: permissions, uid: 65532}]\n",
		       "nonroot-system-dirs", "path '/lib64': a system path", "owner on /lib64");
	refused_unless("paths: [{path: /usr/lib/x86_64-linux-gnu/libc.so.6, type: permissions, uid: 65532}]\n",
		       "nonroot-system-dirs", "a system path", "owner on a library");
	refused_unless("paths: [{path: /etc/passwd, type: permissions, uid: 65532}]\n",
		       "nonroot-system-dirs", "path '/etc/passwd'", "owner on /etc/passwd");
	loads("name: x\npackages: [a1]\npaths: [{path: /etc/app, type: directory, uid: 65532}]\n",
	      "owner 65532 on /etc/app loads");
	loads("name: x\npackages: [a1]\npaths: [{path: /etc, type: permissions, uid: 0, mode: '0755'}]\n",
	      "owner root on /etc loads");

	/* control characters */
	fails("name: x\npackages: [a1]\nenv: {A: \"1\\nB=2\"}\n", "bad.yaml:3:10: env: A: control characters",
	      "newline in an env value");
	fails("name: x\npackages: [a1]\nenv: {A: \"\\e[2J\"}\n", "env: A: control characters",
	      "escape in an env value");
	fails("name: x\npackages: [a1]\nenv: {A: \"\\x85\"}\n", "env: A: control characters",
	      "C1 NEL in an env value");
	fails("name: x\npackages: [a1]\npaths: [{path: \"/a\\nb\", type: directory}]\n",
	      "bad.yaml:3:16: path: control characters", "newline in a path");
	fails("name: x\npackages: [a1]\npaths: [{path: /a, type: symlink, target: \"b\\tc\"}]\n",
	      "target: control characters", "tab in a symlink target");
	fails("name: x\npackages: [a1]\nworkdir: \"/a\\rb\"\n", "bad.yaml:3:10: workdir: control",
	      "carriage return in workdir");
	fails("name: x\npackages: [a1]\nentrypoint: [/bin/x, \"a\\nb\"]\n",
	      "bad.yaml:3:22: entrypoint: 'a\\nb': control", "newline in an entrypoint element");
	fails("name: x\npackages: [a1]\ncmd: \"a\\x7f\"\n", "bad.yaml:3:6: cmd: 'a\\x7f': control",
	      "DEL in cmd (quoted escaped)");
	fails("name: x\npackages: [a1]\nlabels: {a: \"x\\ny\"}\n", "bad.yaml:3:13: labels: a: control",
	      "newline in a label value");
	fails("name: x\npackages: [a1]\nannotations: {\"a\\nb\": x}\n",
	      "bad.yaml:3:15: annotations: key 'a\\nb': control", "newline in an annotation key");
	fails("name: x\npackages: [a1]\ndescription: |\n  two\n  lines\n",
	      "bad.yaml:3:14: description: control", "a multi-line description");
	loads("name: x\npackages: [a1]\nenv: {A: 'caf\xc3\xa9 \xe2\x82\xac'}\nlabels: {a: 'x y'}\n",
	      "UTF-8 text loads");

	/* annotations pare writes */
	fails("name: x\npackages: [a1]\nannotations: {dev.pare.recipe.sha: x}\n",
	      "bad.yaml:3:15: annotations: 'dev.pare.recipe.sha': dev.pare.* annotations are pare's own",
	      "dev.pare.* is refused");
	fails("name: x\npackages: [a1]\nannotations: {dev.pare.x: y}\nallow: [override-annotations]\n",
	      "dev.pare.* annotations are pare's own", "dev.pare.* is refused even with the allow");
	refused_unless("annotations: {org.opencontainers.image.created: '1970-01-01T00:00:00Z'}\n",
		       "override-annotations",
		       "bad.yaml:3:15: annotations: 'org.opencontainers.image.created' overrides",
		       "created");
	refused_unless("annotations: {org.opencontainers.image.revision: x}\n",
		       "override-annotations", "'org.opencontainers.image.revision' overrides", "revision");
	refused_unless("annotations: {org.opencontainers.image.source: x}\n",
		       "override-annotations", "'org.opencontainers.image.source' overrides", "source");
	refused_unless("annotations: {org.opencontainers.image.version: x}\n",
		       "override-annotations", "'org.opencontainers.image.version' overrides", "version");
	refused_unless("annotations: {org.opencontainers.image.base.digest: x}\n",
		       "override-annotations", "'org.opencontainers.image.base.digest' overrides",
		       "base.digest");
	loads("name: x\npackages: [a1]\nannotations: {org.opencontainers.image.title: x}\n"
	      "labels: {dev.pare.recipe.sha: x}\n",
	      "title annotation and labels are the recipe's");
}

static void test_list(void)
{
	char *sub = path_join(dir, "list");
	strvec files = STRVEC_INIT;
	perr e;
	char *p;

	mkdir_p(sub, 0755, &e);
	const char *names[] = { "b.yaml", "a.yaml", "_frag.yaml", ".hidden.yaml", "c.yml",
				"notes.txt" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		p = path_join(sub, names[i]);
		write_file_atomic(p, "x", 1, 0644, &e);
		free(p);
	}
	TAP_OK(recipe_list(sub, &files, &e) == 0, "recipe_list");
	TAP_OK(files.n == 2 && str_ends(files.v[0], "/a.yaml") && str_ends(files.v[1], "/b.yaml"),
	       "recipe_list: *.yaml sorted, '_' and '.' files skipped");
	sv_clear(&files);
	TAP_OK(recipe_list("/nonexistent-dir", &files, &e) < 0 && strstr(e.msg, "nonexistent-dir"),
	       "recipe_list names a missing directory");
	free(sub);
}

/* The recipes shipped in recipes/ load, and their chain is what the docs say. */
static void test_shipped(void)
{
	const char *src = getenv("PARE_SRC");
	char *rdir = path_join(src ? src : ".", "recipes");
	strvec files = STRVEC_INIT;
	perr e;

	if (!is_dir(rdir)) {
		printf("ok - shipped recipes # SKIP no %s\n", rdir);
		free(rdir);
		return;
	}
	TAP_OK(recipe_list(rdir, &files, &e) == 0 && files.n >= 7, "recipes/ lists %zu recipes",
	       files.n);
	for (size_t i = 0; i < files.n; i++) {
		struct recipe *r = recipe_load(files.v[i], &e);
		const char *base = path_basename(files.v[i]);
		TAP_OK(r != NULL, "shipped %s loads%s%s", base, r ? "" : ": ", r ? "" : e.msg);
		if (!r)
			continue;
		TAP_OK(r->repos_from_host && !strncmp(base, r->name, strlen(r->name)) &&
			       base[strlen(r->name)] == '.',
		       "%s: host sources, name matches the file", base);
		if (!strcmp(r->name, "static"))
			TAP_OK(sv_contains(&r->assume, "openssl") && sv_contains(&r->assume, "mawk") &&
				       r->npackages == 5,
			       "static assumes openssl and mawk so libc6 stays out");
		if (!strcmp(r->name, "cc"))
			TAP_OK(r->npackages == 9, "cc = static + base + its own packages");
		recipe_free(r);
	}
	sv_clear(&files);
	free(rdir);
}

int main(void)
{
	perr e;

	if (!mkdtemp(dir))
		die("mkdtemp");
	TAP_OK(resolver_host_arch() && *resolver_host_arch(), "host_arch is %s", resolver_host_arch());
	test_full();
	test_defaults();
	test_extends();
	test_tags();
	test_strict();
	test_errors();
	test_policy();
	test_list();
	test_shipped();
	rm_rf(dir, &e);
	TAP_DONE();
}
