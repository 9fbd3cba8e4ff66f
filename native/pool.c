/* The persistent pool of pool.h: one mutex, a wake condvar (new generation) and a done condvar. */
#include "pool.h"
#include <stdlib.h>

typedef struct {
  spell_pool *pool;
  int tid;
  unsigned long seen; /* the generation before the job that started this worker */
} worker_start;

static void *worker_main(void *raw) {
  worker_start st = *(worker_start *)raw;
  free(raw);
  spell_pool *p = st.pool;
  pthread_mutex_lock(&p->mu);
  /* Started by spell_pool_run before it bumped the generation: that job is ours too. */
  unsigned long seen = st.seen;
  for (;;) {
    while (p->gen == seen && !p->stop) pthread_cond_wait(&p->wake, &p->mu);
    if (p->stop) break;
    seen = p->gen;
    if (st.tid >= p->active) continue; /* not part of this job */
    spell_task_fn fn = p->fn;
    void *arg = p->arg;
    const int n = p->active;
    pthread_mutex_unlock(&p->mu);
    fn(arg, st.tid, n);
    pthread_mutex_lock(&p->mu);
    if (--p->pending == 0) pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int spell_pool_init(spell_pool *p) {
  if (pthread_mutex_init(&p->mu, NULL) != 0) return 0;
  if (pthread_cond_init(&p->wake, NULL) != 0) return 0;
  if (pthread_cond_init(&p->done, NULL) != 0) return 0;
  p->ready = 1;
  return 1;
}

/* Starts workers up to tid n-1; returns how many threads (caller included) are available. */
static int grow(spell_pool *p, int n) {
  while (p->nworkers < n - 1) {
    worker_start *st = malloc(sizeof *st);
    if (st == NULL) break;
    st->pool = p;
    st->tid = p->nworkers + 1;
    st->seen = p->gen;
    if (pthread_create(&p->tids[p->nworkers], NULL, worker_main, st) != 0) {
      free(st);
      break;
    }
    p->nworkers++;
  }
  return p->nworkers + 1 < n ? p->nworkers + 1 : n;
}

int spell_pool_run(spell_pool *p, int n, spell_task_fn fn, void *arg) {
  if (n > SPELL_POOL_MAX) n = SPELL_POOL_MAX;
  if (n <= 1 || !p->ready) {
    fn(arg, 0, 1);
    return 1;
  }
  pthread_mutex_lock(&p->mu);
  n = grow(p, n);
  if (n > 1) {
    p->fn = fn;
    p->arg = arg;
    p->active = n;
    p->pending = n - 1;
    p->gen++;
    pthread_cond_broadcast(&p->wake);
  }
  pthread_mutex_unlock(&p->mu);
  fn(arg, 0, n);
  if (n > 1) {
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
  }
  return n;
}

void spell_pool_destroy(spell_pool *p) {
  if (!p->ready) return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  for (int t = 0; t < p->nworkers; t++) pthread_join(p->tids[t], NULL);
  p->nworkers = 0;
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->mu);
  p->ready = 0;
}
