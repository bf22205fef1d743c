void greet(const char *who);
int add(int a, int b);
