#include <config.h>

/* libFuzzer target for capture replay: the input is written to a file,
 * which a pcap port opens as its rx= capture and replays through its recv
 * into the datapath (fuzz-dp.h), batch by batch, as the daemon polls it,
 * until the port says the replay is over. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz-dp.h"
#include "fuzz-file.h"
#include "packet.h"
#include "port.h"
#include "port-provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct port_class *class = port_class_find("pcap");
    const char *keys[] = { "rx" };
    const char *values[] = { fuzz_file_write(data, size) };
    struct port_args args = {
        .name = "replay",
        .owner = "fuzz-pcap",
        .keys = keys,
        .values = values,
        .n_options = 1,
    };
    char error[256];
    struct port *port;

    if (!class) {
        fprintf(stderr, "fuzz-pcap: no pcap port class\n");
        abort();
    }
    if (class->open(&args, &port, error, sizeof error)) {
        return 0;
    }

    struct fuzz_dp *f = fuzz_dp_begin(0);
    struct packet_batch batch;

    packet_batch_init(&batch);
    while (!class->recv(port, f->pool, &batch)) {
        fuzz_dp_receive(f, FUZZ_PORT_PLAIN, &batch);
    }
    port_close(port);
    fuzz_dp_end(f);
    return 0;
}
