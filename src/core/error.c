/* error.c - messages and names of the error codes, from the one table in
 * weft/error.h, and the library's version. */
#include "weft.h"

const char *weft_strerror(int err) {
  switch (err) {
  case WEFT_OK:
    return "success";
#define WEFT__ERR_MSG(name, code, msg)                                         \
  case code:                                                                   \
    return msg;
    WEFT_ERRNO_MAP(WEFT__ERR_MSG)
#undef WEFT__ERR_MSG
  }
  return "unknown error";
}

const char *weft_err_name(int err) {
  switch (err) {
  case WEFT_OK:
    return "WEFT_OK";
#define WEFT__ERR_NAME(name, code, msg)                                        \
  case code:                                                                   \
    return "WEFT_" #name;
    WEFT_ERRNO_MAP(WEFT__ERR_NAME)
#undef WEFT__ERR_NAME
  }
  return "WEFT_E?";
}

const char *weft_version(void) { return WEFT_VERSION_STRING; }
