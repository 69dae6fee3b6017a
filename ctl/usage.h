#ifndef CTL_USAGE_H
#define CTL_USAGE_H 1

#include <stddef.h>

/* What a usage text such as "NAME type=TYPE [vni=VNI] [KEY=VALUE...]"
 * says about the arguments it describes, read so that completion keeps no
 * list of its own: a command added to the table completes through its
 * usage text alone.
 *
 * The grammar: a word in capitals is a placeholder, a lowercase word is
 * literal; "a|b" offers alternatives, in one word or as words around a
 * lone "|"; "[...]" is optional and "..." repeats; "key=VALUE" is a keyed
 * argument, and "KEY=VALUE" stands for the options of the port's type;
 * "-x" and "--opt" are options, whose argument is the next word within
 * the same brackets ("[--count N]", "--pcap FILE", but not
 * "[--strict] FLOW"). */

enum usage_item_type {
    USAGE_POSITIONAL,
    USAGE_KEYED,
    USAGE_OPTION,
};

#define USAGE_MAX_ITEMS 32
#define USAGE_WORD_SIZE 64

struct usage_item {
    enum usage_item_type type;

    /* Positional: its placeholders or literal words, '|' between them
     * ("PORT", "in|out|both").  Keyed: the key ("type", or "KEY" for the
     * port type's options).  Option: its name ("--strict", "-w"). */
    char name[USAGE_WORD_SIZE];

    /* Keyed and option: the placeholders or words of the value ("TYPE",
     * "any|list"); "" for an option that takes none. */
    char value[USAGE_WORD_SIZE];

    /* Positional: its index among the positional arguments.  Keyed: how
     * many positional arguments must come before it. */
    size_t slot;
};

struct usage {
    struct usage_item items[USAGE_MAX_ITEMS];
    size_t n_items;
};

/* Reads 'text' into 'u'.  Items beyond USAGE_MAX_ITEMS, and the ends of
 * words longer than USAGE_WORD_SIZE, are left out. */
void usage_parse(const char *text, struct usage *u);

/* What one alternative of a placeholder (a piece between '|') stands for,
 * as far as completion can offer something. */
enum usage_kind {
    USAGE_FREE,                 /* Anything: NAME, FLOW, IP, N... */
    USAGE_LITERAL,              /* Itself: "json", "true". */
    USAGE_PORT,                 /* PORT: one of the daemon's ports. */
    USAGE_VNI,                  /* VNI: one of the daemon's VNIs. */
    USAGE_FILE,                 /* FILE or PATH: a file name. */
    USAGE_TYPE,                 /* TYPE: a port type. */
    USAGE_IFNAME,               /* IFNAME: a kernel interface. */
};

/* Returns the kind of the 'length' bytes at 'word'. */
enum usage_kind usage_kind(const char *word, size_t length);

#endif /* ctl/usage.h */
