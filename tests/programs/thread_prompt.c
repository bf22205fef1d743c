/* A thread writes a prompt while the main thread already waits for the
 * answer on stdin: the answer comes only after the prompt is seen (the test's
 * stdout callback writes it), so the main thread's wait must not hold the
 * channel the prompt needs. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *prompter(void *arg)
{
    (void)arg;
    struct timespec t = {0, 200 * 1000 * 1000}; /* long after main is waiting */
    nanosleep(&t, 0);
    write(1, "prompt\n", 7);
    return 0;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, 0, prompter, 0);
    char buf[64];
    ssize_t n = read(0, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    pthread_join(t, 0);
    printf("got %zd: %s", n, buf);
    return 0;
}
