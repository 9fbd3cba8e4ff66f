/*
 * A persistent thread pool: worker threads are started once (lazily, as many as the largest
 * request so far) and then sleep on a condition variable between jobs, so a parallel kernel call
 * costs a wake-up instead of a pthread_create/join per call. One pool per addon instance (per Node
 * thread that loads the addon); jobs on one pool never overlap because N-API calls are synchronous.
 */
#ifndef SPELL_POOL_H
#define SPELL_POOL_H
#include <pthread.h>

#define SPELL_POOL_MAX 64

/* The work of one thread: tid in [0, nthreads); tid 0 runs on the calling thread. */
typedef void (*spell_task_fn)(void *arg, int tid, int nthreads);

typedef struct spell_pool {
  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  pthread_t tids[SPELL_POOL_MAX];
  int nworkers;           /* workers started (tids 1..nworkers) */
  unsigned long gen;      /* incremented per job; workers run each generation once */
  int active;             /* threads taking part in the current job, caller included */
  int pending;            /* workers of the current job not finished yet */
  int stop;
  spell_task_fn fn;
  void *arg;
  int ready;              /* mutex and condvars initialised */
} spell_pool;

/* Prepares an all-zero pool; returns 0 on failure. */
int spell_pool_init(spell_pool *p);

/*
 * Runs fn(arg, tid, n) for tid = 0..n-1 and returns when all are done; n is capped by
 * SPELL_POOL_MAX and falls back to fewer threads (down to the caller alone) when a worker cannot
 * be started. Returns the number of threads used.
 */
int spell_pool_run(spell_pool *p, int n, spell_task_fn fn, void *arg);

/* Stops and joins the workers. */
void spell_pool_destroy(spell_pool *p);
#endif
