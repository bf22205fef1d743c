/* Which fd numbers a program gets: all of its own from 3 on (the channel's number lies above them). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    int a = open("/tmp/a", O_CREAT | O_RDWR, 0600);
    int b = open("/tmp/b", O_CREAT | O_RDWR, 0600);
    printf("first fds %d %d\n", a, b);
    int r = dup2(a, 3);
    printf("dup2 to 3: %d errno %d\n", r, r < 0 ? errno : 0);
    r = close(3);
    printf("close 3: %d errno %d\n", r, r < 0 ? errno : 0);
    r = fcntl(3, F_GETFD);
    printf("fcntl 3: %d errno %d\n", r, r < 0 ? errno : 0);
    r = fcntl(a, F_DUPFD, 0);
    printf("F_DUPFD from 0: %d\n", r);
    return 0;
}
