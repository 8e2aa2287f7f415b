/* PCB_API marks the functions libpcbdiff exports: the library is built with hidden visibility, so
 * only what its public headers declare with PCB_API is part of its ABI (the shared library's
 * symbol table holds nothing else). */
#ifndef PCBDIFF_API_H
#define PCBDIFF_API_H

#if defined(__GNUC__) || defined(__clang__)
#define PCB_API __attribute__((visibility("default")))
#else
#define PCB_API
#endif

#endif
