/*
 * file.h: the file sink, line protocol to a path or to stdout ("-").
 */
#ifndef SINKS_FILE_H
#define SINKS_FILE_H

#include "sinks/sink.h"

extern const struct sink_type sink_file_type;
/* A configured state for standard output, to start() without a config. */
extern const void *const sink_file_stdout;

#endif /* SINKS_FILE_H */
