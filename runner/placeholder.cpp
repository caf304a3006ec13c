#include "archs/registry.h"
