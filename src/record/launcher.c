/*
 * launcher.c - rank, world size and job id of a multi-process run, read
 * from the launcher's environment (Open MPI, MPICH/Hydra, torchrun, Slurm),
 * the PORTER_BENCH_* variables or pb_set_rank(), and the run folder they
 * give: "<root>/job-<id>[-N]/rank-NNNNN".
 *
 * Lock: override_mu guards the override struct (pb_set_rank's values); it
 * is held only to copy them, never during I/O.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static pthread_mutex_t override_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  bool set;
  int rank, world_size;
  char job_id[PB_JOB_ID_SIZE];
} override;

/* A decimal in [0, INT_MAX]; -1 for NULL, "", or anything else. */
static int parse_nonneg(const char *s) {
  if (!s || !*s) return -1;
  long v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
    if (v > INT_MAX) return -1;
  }
  return (int)v;
}

/* A run of one process: no rank, no launcher, no job. */
static void no_rank(pb_rank_info *o) {
  memset(o, 0, sizeof *o);
  o->rank = o->local_rank = -1;
}

static void set_launcher(pb_rank_info *o, const char *l, int rank, int ws, int local) {
  snprintf(o->launcher, sizeof o->launcher, "%s", l);
  o->rank = rank;
  o->world_size = ws < 0 ? 0 : ws;
  o->local_rank = local;
}

/*
 * The launching process's identity: "<host>-<ppid>-<its start time in
 * clock ticks since boot>". The ranks one launcher process started on one
 * host share it; the start time tells apart a reused pid.
 */
static void parent_identity(char *buf, size_t n) {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  pid_t pp = getppid();
  unsigned long long start = 0;
  char path[64], line[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pp);
  FILE *f = fopen(path, "re");
  if (f) {
    size_t len = fread(line, 1, sizeof line - 1, f);
    line[len] = '\0';
    fclose(f);
    const char *p = strrchr(line, ')'); /* the command name may hold spaces */
    for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
    if (p) start = strtoull(p + 1, NULL, 10);
  }
  snprintf(buf, n, "%s-%ld-%llu", host, (long)pp, start);
}

static bool try_openmpi(pb_rank_info *o) {
  int rank = parse_nonneg(pb__getenv("OMPI_COMM_WORLD_RANK"));
  if (rank < 0) return false;
  set_launcher(o, "openmpi", rank, parse_nonneg(pb__getenv("OMPI_COMM_WORLD_SIZE")),
               parse_nonneg(pb__getenv("OMPI_COMM_WORLD_LOCAL_RANK")));
  const char *id = pb__getenv("PMIX_NAMESPACE");
  if (!id) id = pb__getenv("OMPI_MCA_ess_base_jobid");
  if (!id) id = pb__getenv("OMPI_MCA_orte_ess_jobid");
  if (id) snprintf(o->job_id, sizeof o->job_id, "%s", id);
  return true;
}

/* Hydra (MPICH, Intel MPI) and other PMI-1/PMI-2 launchers. */
static bool try_pmi(pb_rank_info *o) {
  int rank = parse_nonneg(pb__getenv("PMI_RANK"));
  if (rank < 0) return false;
  set_launcher(o, "mpich", rank, parse_nonneg(pb__getenv("PMI_SIZE")),
               parse_nonneg(pb__getenv("MPI_LOCALRANKID")));
  const char *id = pb__getenv("PMI_KVSNAME"); /* exported by some PMI servers, not by Hydra */
  if (!id) id = pb__getenv("PMI_JOBID");      /* Slurm's PMI-2 */
  if (id) snprintf(o->job_id, sizeof o->job_id, "%s", id);
  return true;
}

/* A PMIx launcher that is not Open MPI's mpirun (prterun, srun --mpi=pmix). */
static bool try_pmix(pb_rank_info *o) {
  int rank = parse_nonneg(pb__getenv("PMIX_RANK"));
  const char *ns = pb__getenv("PMIX_NAMESPACE");
  if (rank < 0 || !ns || pb__getenv("SLURM_STEP_ID")) return false; /* srun: Slurm's ids */
  set_launcher(o, "pmix", rank, parse_nonneg(pb__getenv("PMIX_SIZE")), -1);
  snprintf(o->job_id, sizeof o->job_id, "%s", ns);
  return true;
}

/*
 * torchrun: TORCHELASTIC_RUN_ID is the literal "none" unless --rdzv_id is
 * given. Then the ranks of one host share their parent (the agent), which
 * serves when the job is on one host (LOCAL_WORLD_SIZE == WORLD_SIZE);
 * across hosts the master's address and port are the only shared value.
 */
static bool try_torchrun(pb_rank_info *o) {
  int rank = parse_nonneg(pb__getenv("RANK"));
  int ws = parse_nonneg(pb__getenv("WORLD_SIZE"));
  if (rank < 0 || ws < 1 || (!pb__getenv("TORCHELASTIC_RUN_ID") && !pb__getenv("LOCAL_RANK")))
    return false;
  set_launcher(o, "torchrun", rank, ws, parse_nonneg(pb__getenv("LOCAL_RANK")));
  const char *run = pb__getenv("TORCHELASTIC_RUN_ID");
  const char *restart = pb__getenv("TORCHELASTIC_RESTART_COUNT");
  char base[PB_JOB_ID_SIZE - 32];
  if (run && strcmp(run, "none") != 0)
    snprintf(base, sizeof base, "%s", run);
  else if (parse_nonneg(pb__getenv("LOCAL_WORLD_SIZE")) == ws || ws == 1)
    parent_identity(base, sizeof base);
  else
    snprintf(base, sizeof base, "%s-%s",
             pb__getenv("MASTER_ADDR") ? pb__getenv("MASTER_ADDR") : "?",
             pb__getenv("MASTER_PORT") ? pb__getenv("MASTER_PORT") : "?");
  snprintf(o->job_id, sizeof o->job_id, "%s-r%s", base, restart ? restart : "0");
  return true;
}

/*
 * An srun step's task. The batch script itself (no step id, or the special
 * ids of the batch and extern steps, all above INT_MAX) is one process,
 * however many tasks the allocation has.
 */
static bool try_slurm(pb_rank_info *o) {
  int rank = parse_nonneg(pb__getenv("SLURM_PROCID"));
  const char *job = pb__getenv("SLURM_JOB_ID");
  if (!job) job = pb__getenv("SLURM_JOBID");
  const char *step = pb__getenv("SLURM_STEP_ID");
  if (!step) step = pb__getenv("SLURM_STEPID");
  if (rank < 0 || !job || parse_nonneg(step) < 0) return false;
  int ws = parse_nonneg(pb__getenv("SLURM_STEP_NUM_TASKS"));
  if (ws < 0) ws = parse_nonneg(pb__getenv("SLURM_NTASKS"));
  if (ws < 0) ws = parse_nonneg(pb__getenv("SLURM_NPROCS"));
  set_launcher(o, "slurm", rank, ws, parse_nonneg(pb__getenv("SLURM_LOCALID")));
  snprintf(o->job_id, sizeof o->job_id, "%s.%s", job, step);
  return true;
}

/* The launchers in order: an MPI or torchrun launch inside a Slurm
 * allocation inherits the batch step's SLURM_PROCID (0), so Slurm is last. */
static void detect_launcher(pb_rank_info *o) {
  if (!try_openmpi(o) && !try_pmi(o) && !try_pmix(o) && !try_torchrun(o)) try_slurm(o);
  if (o->world_size == 1) no_rank(o); /* a launcher's only process */
}

/* PORTER_BENCH_RANK / _WORLD_SIZE: above any launcher's rank. */
static void apply_env_override(pb_rank_info *o) {
  int rank = parse_nonneg(pb__getenv(PB_ENV_RANK));
  if (rank < 0) return;
  int ws = parse_nonneg(pb__getenv(PB_ENV_WORLD_SIZE));
  int local = o->launcher[0] ? o->local_rank : -1;
  set_launcher(o, "env", rank, ws, local);
}

int pb_rank_detect(pb_rank_info *out) {
  if (!out) return pb__fail(PB_EINVAL, "pb_rank_detect: out is NULL");
  no_rank(out);
  detect_launcher(out);
  apply_env_override(out);
  pthread_mutex_lock(&override_mu);
  bool api = override.set, api_job = api && override.job_id[0];
  if (api) {
    set_launcher(out, "api", override.rank, override.world_size, out->local_rank);
    if (override.job_id[0]) snprintf(out->job_id, sizeof out->job_id, "%s", override.job_id);
  }
  pthread_mutex_unlock(&override_mu);
  if (out->rank < 0) {
    no_rank(out);
    return PB_OK;
  }
  if (!api_job) {
    const char *id = pb__getenv(PB_ENV_JOB_ID);
    if (id) snprintf(out->job_id, sizeof out->job_id, "%s", id);
  }
  if (!out->job_id[0]) parent_identity(out->job_id, sizeof out->job_id);
  return PB_OK;
}

int pb_set_rank(int rank, int world_size, const char *job_id) {
  if (rank >= 0 && world_size > 0 && rank >= world_size)
    return pb__fail(PB_EINVAL, "pb_set_rank: rank %d is not below world size %d", rank, world_size);
  pthread_mutex_lock(&override_mu);
  override.set = rank >= 0;
  override.rank = rank;
  override.world_size = world_size > 0 ? world_size : 0;
  snprintf(override.job_id, sizeof override.job_id, "%s", rank >= 0 && job_id ? job_id : "");
  pthread_mutex_unlock(&override_mu);
  return PB_OK;
}

int pb_job_folder_name(const char *job_id, char *buf, size_t n) {
  if (!job_id || !*job_id || !buf)
    return pb__fail(PB_EINVAL, "pb_job_folder_name: NULL or empty argument");
  enum { KEEP = 96 };
  size_t len = strlen(job_id), keep = len > KEEP ? KEEP : len;
  char name[4 + KEEP + 10 + 1] = "job-";
  bool changed = len != keep;
  uint32_t h = pb__fnv1a32(job_id, len);
  for (size_t i = 0; i < keep; i++) {
    char c = job_id[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    name[4 + i] = ok ? c : '_';
    changed |= !ok;
  }
  name[4 + keep] = '\0';
  if (changed) snprintf(name + 4 + keep, 10, "-%08x", h);
  size_t total = strlen(name);
  if (total >= n) return pb__fail(PB_EINVAL, "pb_job_folder_name: buffer of %zu bytes", n);
  memcpy(buf, name, total + 1);
  return (int)total;
}

char *pb__rank_run_dir(const char *root, const pb_rank_info *ri, unsigned attempt) {
  char job[128];
  if (pb_job_folder_name(ri->job_id, job, sizeof job) < 0) return NULL;
  size_t n = strlen(root) + sizeof job + 48;
  char *dir = malloc(n);
  if (!dir) return NULL;
  if (attempt)
    snprintf(dir, n, "%s/%s-%u/rank-%05d", root, job, attempt, ri->rank);
  else
    snprintf(dir, n, "%s/%s/rank-%05d", root, job, ri->rank);
  return dir;
}

int pb__rank_claim(const char *root, const pb_rank_info *ri, char **dir) {
  for (unsigned attempt = 0; attempt <= 10000; attempt++) {
    char *d = pb__rank_run_dir(root, ri, attempt);
    if (!d) return pb__fail(PB_ENOMEM, "out of memory creating the run folder");
    int rc = pb__mkdir_parent(d);
    if (rc == PB_OK && mkdir(d, 0777) == 0) {
      free(*dir);
      *dir = d;
      return PB_OK;
    }
    int e = errno;
    if (rc == PB_OK && e != EEXIST) rc = pb__fail(PB_EIO, "cannot create '%s': %s", d, strerror(e));
    free(d);
    if (rc) return rc;
  }
  return pb__fail(PB_EIO, "no free job folder for job '%s' under '%s'", ri->job_id, root);
}
