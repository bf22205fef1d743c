/* Exits 0 and writes nothing: a program whose run the command-line tests can tell apart from any error line. */
int main(void)
{
    return 0;
}
