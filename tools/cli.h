/* cli.h - the subcommands of the weft command, one function each, called by
 * the dispatcher in weft.c with the arguments that follow the command's
 * name (argv[0] is the name). Each returns the process's exit status:
 * 0 success, 1 failure, 2 bad usage. */
#ifndef WEFT_TOOLS_CLI_H
#define WEFT_TOOLS_CLI_H

#include <stdio.h>

#include "weft/compute.h"

int cli_eval(int argc, char **argv);
void cli_eval_usage(FILE *out);
/* weft eval of a numpy-style array expression (eval_array.c). */
int cli_eval_array(const char *text, weft_scheduler sched, int workers,
                   const char *svg, const char *dot, const char *rankdir,
                   const char *npy, const char *plot, int quiet);

#endif
