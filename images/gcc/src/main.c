#include <stdio.h>
#include "greet.h"
int main(void) { greet("make"); printf("sum %d\n", add(40, 2)); return 0; }
