/* What every subcommand's option parsing shares. Each subcommand parses its
 * argv with getopt_long, here in cli/ only: the libraries below (server/,
 * certs/, policy/...) take structs, never argv. */
#ifndef CG_CLI_OPTS_H
#define CG_CLI_OPTS_H

/* Starts a getopt_long pass over a subcommand's argv (argv[0] is the
 * subcommand's name): optind is reset, so a second pass in one process
 * starts afresh, and argv[0] becomes prog ("capgate certs create"), so
 * that getopt_long's own messages, which name the option ("unrecognized
 * option '--x'", "option '--policy' requires an argument", "invalid option
 * -- 'Z'"), say which command they are about. After getopt_long returns
 * '?', the caller prints its usage to stderr and exits 2. prog is
 * borrowed: a string literal. */
void opts_begin(char **argv, const char *prog);

#endif
