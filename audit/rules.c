/* rules.c - the audit's checks: ids, titles and their mapping to CIS Docker
 * Benchmark v1.6.0 §4, NIST SP 800-190 §4.1 and Dockle.  The ids are
 * stable (SARIF fingerprints and CI baselines key on them): add, never
 * renumber.  docs/audit.md has the same table. */
#include "audit.h"

const struct audit_rule audit_rules[] = {
	{ "PARE-CIS-4.1", "Run as a non-root user", "4.1", "4.1.2", "CIS-DI-0001",
	  "config.User resolves through the image's /etc/passwd to a non-zero uid (an empty User, "
	  "root, 0, 0:0 and root:GROUP all run as root); the user's home directory and login shell "
	  "exist as /etc/passwd declares them.",
	  "Set a non-root user in the image config. pare runs images as 65532 (nonroot) unless the "
	  "recipe says `run-as` and `allow: [root]`.",
	  7.5 },
	{ "PARE-CIS-4.2", "Use trusted base images", "4.2", "4.1.5", "",
	  "Where the image's contents come from: a pare image has no base image; it is assembled "
	  "from Debian packages pinned by sha256 in recipes.lock.",
	  "Build from verified packages (pare) or a base image from a trusted, verified source.",
	  5.0 },
	{ "PARE-CIS-4.3", "No unnecessary packages: shells, package managers, compilers, debuggers",
	  "4.3", "4.1.2", "CIS-DI-0003",
	  "No shell (sh, bash, dash, busybox, …), no package manager (dpkg, apt, rpm, apk, pip, …) "
	  "and no compiler or debugger (gcc, cc, clang, gdb, strace, …) in the image, unless the "
	  "image's recipe allows it (then warn).  The package count is evidence.",
	  "Remove them from the image. pare's default policy strips shells and package managers "
	  "and refuses the packages that ship them unless the recipe says `allow`.",
	  6.0 },
	{ "PARE-CIS-4.4", "Scan and rebuild images for security patches", "4.4", "4.1.1",
	  "CIS-DI-0004",
	  "The image's age against its repository indexes, and with CVE feeds present the "
	  "fixable and known-exploited (KEV) CVEs of its packages.",
	  "Rebuild when the indexes move: `pare check` / `pare update` re-lock and rebuild only "
	  "the images whose closure changed.",
	  7.0 },
	{ "PARE-CIS-4.5", "Content trust: the image is signed", "4.5", "4.1.5", "CIS-DI-0005",
	  "A cosign signature of the image (index and per-platform manifests) is attached; with "
	  "--key it is verified against that public key.",
	  "Sign images: `pare build --sign-key KEY` or `pare sign --key KEY`; verify with "
	  "`pare verify --key PUB` or cosign.",
	  7.0 },
	{ "PARE-CIS-4.6", "HEALTHCHECK in the image config", "4.6", "4.1.2", "CIS-DI-0006",
	  "config.Healthcheck is set in exec form.  A shell-less image without one is "
	  "not applicable: a CMD-SHELL check cannot run in it.",
	  "Add `healthcheck: [/path/to/probe, ARG…]` to the recipe (exec form).",
	  2.0 },
	{ "PARE-CIS-4.7", "No update instructions alone", "4.7", "4.1.1", "CIS-DI-0007",
	  "The config history has no package-index update run on its own (apt-get update, apk "
	  "update, yum makecache) that a later layer would cache stale.",
	  "Combine update and install in one step, or build from a lock (pare) where no update "
	  "runs in the image at all.",
	  2.0 },
	{ "PARE-CIS-4.8", "No setuid or setgid files", "4.8", "4.1.2", "CIS-DI-0008",
	  "No regular file has the setuid or setgid bit.",
	  "Drop the bits (pare drops them at build time unless the recipe says `allow: [setuid]`).",
	  7.0 },
	{ "PARE-CIS-4.9", "COPY instead of ADD", "4.9", "4.1.3", "CIS-DI-0009",
	  "The config history has no ADD of a remote URL or archive.",
	  "Use COPY (pare adds nothing but verified packages and generated files).",
	  2.0 },
	{ "PARE-CIS-4.10", "No secrets in the image", "4.10", "4.1.4", "CIS-DI-0010",
	  "No config.Env entry or label with a secret-like key (PASSWORD, TOKEN, SECRET, API_KEY, "
	  "…) or a token-like value, no private key and no credential file (id_rsa, .netrc, "
	  ".git-credentials, .aws/credentials, …) in the layers.  The evidence names the key or "
	  "the path and layer, never the value.",
	  "Pass secrets at run time (secret mounts, environment from the orchestrator), never in "
	  "the image; rotate any secret that was in one.",
	  9.0 },
	{ "PARE-CIS-4.11", "Only verified packages", "4.11", "4.1.5", "",
	  "The image's packages come from OpenPGP-verified repository indexes, as its verified "
	  "SLSA provenance attestation states (needs --key).",
	  "Build from signed indexes (pare refuses unverified ones) and attach provenance.",
	  6.0 },
	{ "PARE-CIS-4.12", "Signed artifacts are validated", "4.12", "4.1.5", "",
	  "Every attestation and SBOM attached to the image verifies against --key, with its "
	  "statement subject bound to the image digest.",
	  "Verify with `pare verify --key PUB` (or `cosign verify-attestation`) before use.",
	  6.0 },
	{ "PARE-DKL-LI-0001", "No empty passwords", "", "4.1.2", "DKL-LI-0001",
	  "No /etc/shadow entry has an empty password field.",
	  "Lock the account (`*` or `!`); pare writes no /etc/shadow.",
	  8.0 },
	{ "PARE-DKL-LI-0002", "Unique uids and gids", "", "4.1.2", "DKL-LI-0002",
	  "No uid appears twice in /etc/passwd, no gid twice in /etc/group.",
	  "Give every account its own id (pare refuses duplicate ids in a recipe).",
	  5.0 },
	{ "PARE-DKL-LI-0003", "Only necessary files", "", "4.1.2", "DKL-LI-0003",
	  "No version-control directories (.git, .svn, .hg), caches (.cache) or editor leftovers "
	  "(*~, .*.swp, .DS_Store) in the image.",
	  "Exclude them from the build context; pare ships package contents only.",
	  3.0 },
	{ "PARE-DKL-DI-0002", "No sensitive directories as volumes", "", "4.1.2", "DKL-DI-0002",
	  "config.Volumes names none of /, /dev, /proc, /sys, /boot, /etc, /run, /var/run or a "
	  "docker socket.",
	  "Declare only data directories as volumes.",
	  6.0 },
	{ "PARE-FS-WRITABLE", "No world-writable files or directories", "", "4.1.2", "",
	  "No file or directory is writable by others, except sticky directories (/tmp).",
	  "Remove the o+w bit (pare refuses world-writable modes unless the recipe says "
	  "`allow: [world-writable]`).",
	  6.0 },
	{ "PARE-FS-OWNER", "Every owner is a known account", "", "4.1.2", "",
	  "Every file's uid is in /etc/passwd and its gid in /etc/group.",
	  "Re-own the files to accounts the image declares (pare owns everything by root unless "
	  "a recipe path says otherwise).",
	  3.0 },
	{ "PARE-FS-DEVICES", "No device nodes", "", "4.1.2", "",
	  "No character or block device, no FIFO in the layers (the runtime provides /dev).",
	  "Remove them (pare never writes device nodes).",
	  5.0 },
	{ "PARE-FS-SYMLINKS", "No symbolic links leaving the root file system", "", "4.1.2", "",
	  "No relative link climbs above /, no absolute link points at a host path the image "
	  "does not hold (/proc, /sys and /dev excepted).",
	  "Point links inside the image.",
	  4.0 },
	{ "PARE-SBOM", "An SBOM covers every package", "", "4.1.1", "",
	  "The image carries an SPDX SBOM (/usr/share/sbom/*.spdx.json) naming every package of "
	  "its dpkg database (status.d).",
	  "Build with pare (it writes the SBOMs into the image and attaches them), or generate one.",
	  4.0 },
	{ "PARE-REPRO", "Rebuilds to the same digest", "", "4.1.5", "",
	  "The image rebuilds bit for bit from recipes.lock: with --rebuild, pare rebuilds it and "
	  "compares the manifest digests; without, a manual check (`pare build RECIPE` then "
	  "`pare diff`).",
	  "Build from a lock with pinned inputs and a fixed SOURCE_DATE_EPOCH (pare does).",
	  3.0 },
	{ "PARE-CONFIG", "Config: exec-form entrypoint, ports, stop signal, labels", "", "4.1.2", "",
	  "Entrypoint and Cmd in exec form (not a shell -c line), ExposedPorts above 1023, a "
	  "valid StopSignal; the config's facts are the evidence.",
	  "Use exec form and unprivileged ports (pare writes exec form only).",
	  3.0 },
};
const size_t audit_nrules = ARRAY_SIZE(audit_rules);

const char *audit_result_name(enum audit_result r)
{
	static const char *const names[] = { "pass", "fail", "warn", "not-applicable", "manual" };

	return r < AUDIT_NRESULTS ? names[r] : "?";
}
