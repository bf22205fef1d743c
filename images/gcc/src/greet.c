#include <stdio.h>
#include "greet.h"
void greet(const char *who) { printf("hello from %s\n", who); }
int add(int a, int b) { return a + b; }
