#include <config.h>

#include "complete.h"

#include "build.h"
#include "client.h"

/* Completion asks the daemon as vswitch-ctl's own commands do, with the
 * same builders, but gives up after a second: a person is waiting at the
 * keyboard, and a daemon that is stuck or absent must cost no more than
 * that.  Errors are nobody's business here: no answer offers nothing. */
#define COMPLETE_TIMEOUT 1

/* Sends the request that 'build' makes to the daemon at 'socket'.
 * Returns its response, which the caller frees, or NULL. */
static Vswitch__Response *
ask(const char *socket, build_func *build,
    Vswitch__Response__PayloadCase payload)
{
    Vswitch__Response *response = NULL;
    char error[CLIENT_ERROR_SIZE];
    struct build b;
    double rtt_ms;

    build_init(&b);
    if (!build(&b, NULL, 0)
        && !client_transact(socket, &b.request, COMPLETE_TIMEOUT, &response,
                            &rtt_ms, error)
        && (response->status != VSWITCH__STATUS__STATUS_OK
            || response->payload_case != payload)) {
        vswitch__response__free_unpacked(response, NULL);
        response = NULL;
    }
    build_destroy(&b);
    return response;
}

static void
daemon_ports(const char *socket,
             void (*found)(void *, const char *name, const char *type),
             void *aux)
{
    Vswitch__Response *r = ask(socket, build_list_ports,
                               VSWITCH__RESPONSE__PAYLOAD_PORTS);

    for (size_t i = 0; r && i < r->ports->n_ports; i++) {
        const Vswitch__PortConfig *config = r->ports->ports[i]->config;

        found(aux, config->name, config->type);
    }
    if (r) {
        vswitch__response__free_unpacked(r, NULL);
    }
}

static void
daemon_vnis(const char *socket, void (*found)(void *, uint32_t vni),
            void *aux)
{
    Vswitch__Response *r = ask(socket, build_list_vnis,
                               VSWITCH__RESPONSE__PAYLOAD_VNIS);

    for (size_t i = 0; r && i < r->vnis->n_vnis; i++) {
        found(aux, r->vnis->vnis[i]->config->vni);
    }
    if (r) {
        vswitch__response__free_unpacked(r, NULL);
    }
}

const struct complete_source complete_daemon = {
    daemon_ports,
    daemon_vnis,
};
