/* xax_layer_start: the layer's ELF entry point, called once by the PAL. */
#include "layer.h"

void xax_self_relocate(void);
long layer_dispatch(struct layer_call *c);

const struct xax_layer_host *layer_host;

static struct xax_layer_exports exports = {
    .version = XAX_LAYER_VERSION,
};

const struct xax_layer_exports *xax_layer_start(const struct xax_layer_host *host)
{
    xax_self_relocate(); /* first: nothing above may use a stored pointer */
    if (!host || host->version != XAX_LAYER_VERSION)
        return 0;
    layer_host = host;
    exports.dispatch = layer_dispatch;
    exports.program_loaded = layer_program_loaded;
    exports.profile = layer_profile_name;
    exports.identity = &layer_knobs.identity;
    exports.init_error = layer_fs_init();
    exports.load_file = layer_load_file;
    exports.vpid_of = layer_vpid_of;
    return &exports;
}
