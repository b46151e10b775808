#include "tools/doc_search.h"

#include <cstdio>
#include <string>

namespace grok::tools {
namespace {

class doc_search_tool final : public tool {
 public:
  explicit doc_search_tool(store::store& st) : store_(st) {}

  [[nodiscard]] std::string_view name() const override { return "doc_search"; }
  [[nodiscard]] std::string_view description() const override {
    return "Searches the local documents the operator ingested (full-text, BM25) and returns "
           "the best-matching passages with their sources. Give the words the passage "
           "should contain; k is how many passages to return (default 5, at most 20).";
  }
  [[nodiscard]] const nlohmann::json& parameters() const override { return schema_; }

  [[nodiscard]] result<tool_output> invoke(const nlohmann::json& args,
                                           const tool_context& ctx) override {
    // The registry validated the arguments; these checks keep a direct call from throwing.
    const auto query = args.is_object() ? args.find("query") : args.end();
    if (!args.is_object() || query == args.end() || !query->is_string()) {
      return fail(errc::invalid_argument, "doc_search needs a string \"query\"");
    }
    int k = k_doc_search_default_k;
    if (const auto it = args.find("k"); it != args.end()) {
      if (!it->is_number_integer() || it->get<std::int64_t>() < 1 ||
          it->get<std::int64_t>() > k_max_k) {
        return fail(errc::invalid_argument, "doc_search: k must be an integer from 1 to 20");
      }
      k = static_cast<int>(it->get<std::int64_t>());
    }
    if (ctx.stop.stop_requested()) return fail(errc::cancelled, "doc_search was cancelled");

    const auto& text = query->get_ref<const std::string&>();
    auto hits = store_.search_documents(text, k);
    if (!hits) return tl::unexpected(hits.error());
    tool_output out;
    if (hits->empty()) {
      auto documents = store_.list_documents();
      if (!documents) return tl::unexpected(documents.error());
      out.text = documents->empty()
                     ? "No documents have been ingested, so there is nothing to search. An "
                       "operator can add some with `grok docs ingest PATH`."
                     : "No documents match this query.";
      return out;
    }
    for (std::size_t i = 0; i < hits->size(); ++i) {
      const auto& hit = (*hits)[i];
      char score[32];
      std::snprintf(score, sizeof score, "%.2f", hit.score);
      if (i > 0) out.text += "\n\n";
      out.text += "[" + std::to_string(i + 1) + "] " + hit.source;
      if (!hit.title.empty()) out.text += " — " + hit.title;
      out.text += " (passage " + std::to_string(hit.chunk_ord + 1) + ", score " + score + ")\n";
      out.text += hit.content;
    }
    return out;
  }

 private:
  static constexpr int k_max_k = 20;
  store::store& store_;
  nlohmann::json schema_ = nlohmann::json::parse(R"({
    "type": "object",
    "properties": {
      "query": {"type": "string", "minLength": 1, "maxLength": 1000},
      "k": {"type": "integer", "minimum": 1, "maximum": 20}
    },
    "required": ["query"],
    "additionalProperties": false
  })");
};

}  // namespace

std::unique_ptr<tool> make_doc_search_tool(store::store& st) {
  return std::make_unique<doc_search_tool>(st);
}

}  // namespace grok::tools
