/* services.h - table-driven CSTA request handlers. */
#pragma once

#include "session.h"

gboolean services_dispatch(SessReq *r);
