// Standard input must deliver bytes unchanged (EVTX, UTF-16, CRLF); only Windows' C runtime
// translates it by default.
#ifdef _WIN32
#include <fcntl.h>
#include <io.h>

#include <cstdio>
#endif

namespace sw::decode_detail {

void set_stdin_binary() {
#ifdef _WIN32
  _setmode(_fileno(stdin), _O_BINARY);
#endif
}

}  // namespace sw::decode_detail
