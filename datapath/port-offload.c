#include <config.h>

#include "port-offload.h"

#include "util.h"

const char *
port_offload_name(uint32_t offload)
{
    static const struct {
        uint32_t flag;
        const char *name;
    } names[] = {
        { PORT_OFFLOAD_CSUM, "csum" },
        { PORT_OFFLOAD_TSO4, "tso4" },
        { PORT_OFFLOAD_TSO6, "tso6" },
        { PORT_OFFLOAD_USO, "uso" },
        { PORT_OFFLOAD_TUNNEL_GSO, "tunnel_gso" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (names[i].flag == offload) {
            return names[i].name;
        }
    }
    return NULL;
}
