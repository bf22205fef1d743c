/* Threads in the picoprocess: create up to argv[1] threads with pthread_create;
 * each adds to a shared counter under a mutex and checks its own thread-local
 * value, then waits for the main thread's "go" (a condition variable).  The
 * main thread reports how many it made, prints "ready" (the test looks at the
 * picoprocess from outside then), sleeps 300 ms, says go, joins them all. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cond = PTHREAD_COND_INITIALIZER;
static int go, counter, tls_errors;
static __thread long mine;

static void *work(void *arg)
{
    mine = (long)arg;
    for (int i = 0; i < 50000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    while (!go)
        pthread_cond_wait(&go_cond, &lock);
    if (mine != (long)arg)
        tls_errors++;
    pthread_mutex_unlock(&lock);
    return (void *)(mine * 10);
}

int main(int argc, char **argv)
{
    int want = argc > 1 ? atoi(argv[1]) : 4, made = 0;
    pthread_t *t = calloc(want, sizeof *t);
    for (; made < want; made++) {
        int err = pthread_create(&t[made], 0, work, (void *)(long)(made + 1));
        if (err) {
            printf("create %d: %s\n", made, strerror(err));
            break;
        }
    }
    printf("created %d\nready\n", made);
    fflush(stdout);
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, 0);
    pthread_mutex_lock(&lock);
    go = 1;
    pthread_cond_broadcast(&go_cond);
    pthread_mutex_unlock(&lock);
    long sum = 0;
    for (int i = 0; i < made; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    printf("counter %d sum %ld tls errors %d\n", counter, sum, tls_errors);
    return made == want ? 0 : 3;
}
