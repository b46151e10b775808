#include "conformance/store_backends.h"

#include "store/open_store.h"

namespace grok::testing {

std::vector<store_backend> all_store_backends() {
  return {
      {"sqlite",
       [](const temp_dir& dir, const clock& c) {
         auto opened =
             store::open_store({.url = "sqlite://" + dir.file("grok.db"), .time_source = &c});
         if (!opened) {
           ADD_FAILURE() << describe(opened.error());
           return std::unique_ptr<store::store>();
         }
         return std::move(*opened);
       }},
  };
}

}  // namespace grok::testing
