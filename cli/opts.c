#include "cli/opts.h"

#include <getopt.h>

void opts_begin(char **argv, const char *prog)
{
	argv[0] = (char *)prog;
	/* 0, not 1: glibc then also forgets the state of a previous pass
	 * (a half-read cluster of short options, the permutation). */
	optind = 0;
	opterr = 1;
}
