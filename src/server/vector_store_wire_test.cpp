// OpenAI's files and vector-store objects, the file_search tool and its citations, as pure
// functions.
#include "server/vector_store_wire.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "server/http_error.h"

namespace lokal::server {
namespace {

using json = nlohmann::ordered_json;

VectorStoreInfo two_file_store() {
    VectorStoreInfo vs{"vs_ab12", "docs", 1700000000, "minilm", {}, json{{"team", "a"}}};
    vs.files.push_back({"file-01", "a.md", "completed", 1700000001, 120, ""});
    vs.files.push_back(
        {"file-02", "b.pdf", "failed", 1700000002, 0, "PDF files are not supported"});
    return vs;
}

TEST(VectorStoreWire, IdsAreAPrefixAndLowercaseHex) {
    EXPECT_TRUE(is_file_id("file-0123abcdef"));
    EXPECT_TRUE(is_vector_store_id("vs_9f"));
    for (const char* bad : {"file-", "file-XYZ", "file-../x", "vs_12", "file-0/1",
                            "file-00000000000000000000000000000000a"}) {
        EXPECT_FALSE(is_file_id(bad)) << bad;
    }
    EXPECT_FALSE(is_vector_store_id("vs_"));
    EXPECT_FALSE(is_vector_store_id("file-12"));
}

TEST(VectorStoreWire, FileObjectHasOpenAIsFields) {
    const json j = file_object({"file-01", "a.md", "assistants", 42, 1700000000});
    EXPECT_EQ(j["object"], "file");
    EXPECT_EQ(j["bytes"], 42);
    EXPECT_EQ(j["filename"], "a.md");
    EXPECT_EQ(j["purpose"], "assistants");
    EXPECT_EQ(j["created_at"], 1700000000);
    EXPECT_EQ(j["status"], "processed");
}

TEST(VectorStoreWire, StoreCountsItsFilesByStatus) {
    const json j = vector_store_object(two_file_store());
    EXPECT_EQ(j["object"], "vector_store");
    EXPECT_EQ(j["file_counts"]["completed"], 1);
    EXPECT_EQ(j["file_counts"]["failed"], 1);
    EXPECT_EQ(j["file_counts"]["in_progress"], 0);
    EXPECT_EQ(j["file_counts"]["total"], 2);
    EXPECT_EQ(j["usage_bytes"], 120);
    EXPECT_EQ(j["status"], "completed");
    EXPECT_EQ(j["embedding_model"], "minilm");
    VectorStoreInfo busy = two_file_store();
    busy.files[0].status = "in_progress";
    EXPECT_EQ(vector_store_object(busy)["status"], "in_progress");
}

TEST(VectorStoreWire, FailedFileCarriesItsError) {
    const VectorStoreInfo vs = two_file_store();
    const json ok = vector_store_file_object(vs.id, vs.files[0]);
    EXPECT_EQ(ok["object"], "vector_store.file");
    EXPECT_EQ(ok["vector_store_id"], "vs_ab12");
    EXPECT_TRUE(ok["last_error"].is_null());
    const json failed = vector_store_file_object(vs.id, vs.files[1]);
    EXPECT_EQ(failed["status"], "failed");
    EXPECT_EQ(failed["last_error"]["code"], "server_error");
    EXPECT_EQ(failed["last_error"]["message"], "PDF files are not supported");
}

TEST(VectorStoreWire, RecordsRoundTrip) {
    const VectorStoreInfo vs = two_file_store();
    const VectorStoreInfo back = vector_store_from_record(vector_store_record(vs));
    EXPECT_EQ(vector_store_record(back), vector_store_record(vs));
    EXPECT_EQ(back.files[1].filename, "b.pdf");
    EXPECT_THROW(vector_store_from_record(json{{"id", "vs_1"}}), Error);
    const UploadedFile f{"file-01", "a.md", "user_data", 7, 1700000000};
    EXPECT_EQ(file_object(uploaded_file_from_record(uploaded_file_record(f))), file_object(f));
    EXPECT_THROW(uploaded_file_from_record(json::object()), Error);
}

TEST(VectorStoreWire, ListPageNamesFirstAndLast) {
    const json oldest_first = json::array({{{"id", "a"}}, {{"id", "b"}}});
    const json page = list_page(oldest_first, PageRequest{});
    EXPECT_EQ(page["object"], "list");
    EXPECT_EQ(page["first_id"], "b");  // newest first by default, as OpenAI lists
    EXPECT_EQ(page["last_id"], "a");
    EXPECT_EQ(page["has_more"], false);
    EXPECT_TRUE(list_page(json::array(), PageRequest{})["first_id"].is_null());
    EXPECT_EQ(deleted_object("vs_1", "vector_store.deleted")["deleted"], true);
}

std::string ids_of(const json& page) {
    std::string ids;
    for (const json& item : page["data"]) ids += item["id"].get<std::string>();
    return ids + (page["has_more"].get<bool>() ? "+" : "");
}

TEST(VectorStoreWire, ListPagesFollowTheCursors) {
    const json items = json::array({{{"id", "a"}}, {{"id", "b"}}, {{"id", "c"}}, {{"id", "d"}}});
    auto page = [&](int limit, bool asc, const std::string& after, const std::string& before) {
        return ids_of(list_page(items, PageRequest{limit, asc, after, before}));
    };
    EXPECT_EQ(page(2, false, "", ""), "dc+");
    EXPECT_EQ(page(2, false, "c", ""), "ba");
    EXPECT_EQ(page(2, true, "", ""), "ab+");
    EXPECT_EQ(page(2, true, "b", ""), "cd");
    EXPECT_EQ(page(10, true, "a", "d"), "bc");
    EXPECT_EQ(page(1, true, "", "d"), "c+");  // the item just before the cursor
    EXPECT_EQ(page(2, true, "zz", ""), "");   // an unknown cursor has nothing after it
    EXPECT_EQ(page(2, true, "d", ""), "");
}

TEST(VectorStoreWire, PageRequestsAreChecked) {
    const PageRequest p = page_request("5", "asc", "vs_1", "", 20, 100);
    EXPECT_EQ(p.limit, 5);
    EXPECT_TRUE(p.ascending);
    EXPECT_EQ(p.after, "vs_1");
    EXPECT_EQ(page_request("", "", "", "", 20, 100).limit, 20);
    EXPECT_FALSE(page_request("", "", "", "", 20, 100).ascending);
    for (const char* bad : {"0", "101", "x", "5x", "-1"}) {
        EXPECT_THROW(page_request(bad, "", "", "", 20, 100), HttpError) << bad;
    }
    EXPECT_THROW(page_request("", "up", "", "", 20, 100), HttpError);
}

TEST(VectorStoreWire, SearchPageHasOneTextPartPerChunk) {
    const json page = search_results_page("zeppelin", {{"file-01", "a.md", 0.5, {"one", "two"}}});
    EXPECT_EQ(page["object"], "vector_store.search_results.page");
    EXPECT_EQ(page["search_query"], json::array({"zeppelin"}));
    const json& r = page["data"][0];
    EXPECT_EQ(r["file_id"], "file-01");
    EXPECT_EQ(r["filename"], "a.md");
    EXPECT_DOUBLE_EQ(r["score"].get<double>(), 0.5);
    ASSERT_EQ(r["content"].size(), 2u);
    EXPECT_EQ(r["content"][1], (json{{"type", "text"}, {"text", "two"}}));
}

TEST(VectorStoreWire, FileSearchToolsAreTakenOutOfTheToolList) {
    json tools = json::parse(R"([
        {"type": "function", "name": "f"},
        {"type": "file_search", "vector_store_ids": ["vs_1", "vs_2"], "max_num_results": 3}])");
    const auto fs = take_file_search_tools(tools, false);
    ASSERT_EQ(fs.size(), 1u);
    EXPECT_EQ(fs[0].vector_store_ids, (std::vector<std::string>{"vs_1", "vs_2"}));
    EXPECT_EQ(fs[0].max_num_results, 3);
    ASSERT_EQ(tools.size(), 1u);
    EXPECT_EQ(tools[0]["type"], "function");

    json chat =
        json::parse(R"([{"type": "file_search", "file_search": {"vector_store_ids": ["vs_1"]}}])");
    const auto cfs = take_file_search_tools(chat, true);
    ASSERT_EQ(cfs.size(), 1u);
    EXPECT_EQ(cfs[0].max_num_results, 10);
    EXPECT_TRUE(chat.empty());
}

TEST(VectorStoreWire, MalformedFileSearchToolsName400AndTheirField) {
    auto param_of = [](const char* text, bool chat_shape) {
        json tools = json::parse(text);
        try {
            take_file_search_tools(tools, chat_shape);
        } catch (const HttpError& e) {
            EXPECT_EQ(e.status, 400);
            return e.param;
        }
        return std::string("no error");
    };
    EXPECT_EQ(param_of(R"([{"type": "file_search"}])", false), "tools[0].vector_store_ids");
    EXPECT_EQ(param_of(R"([{"type": "file_search", "vector_store_ids": []}])", false),
              "tools[0].vector_store_ids");
    EXPECT_EQ(param_of(R"([{"type": "file_search", "vector_store_ids": [1]}])", false),
              "tools[0].vector_store_ids");
    EXPECT_EQ(
        param_of(R"([{"type": "file_search", "vector_store_ids": ["vs_1"], "max_num_results": 0}])",
                 false),
        "tools[0].max_num_results");
    EXPECT_EQ(param_of(R"([{"type": "file_search", "vector_store_ids": ["vs_1"]}])", true),
              "tools[0].file_search");
}

TEST(VectorStoreWire, FileSearchCallShowsResultsOnlyWhenAsked) {
    const std::vector<SearchResult> results = {{"file-01", "a.md", 0.9, {"x", "y"}}};
    const json without = file_search_call_item("fs_1", {"q"}, "completed", nullptr);
    EXPECT_EQ(without["type"], "file_search_call");
    EXPECT_EQ(without["queries"], json::array({"q"}));
    EXPECT_TRUE(without["results"].is_null());
    const json with = file_search_call_item("fs_1", {"q"}, "completed", &results);
    EXPECT_EQ(with["results"][0]["file_id"], "file-01");
    EXPECT_EQ(with["results"][0]["text"], "x\n\ny");
}

TEST(VectorStoreWire, CitationsPointAtWhereTheTextCitesAFile) {
    const std::vector<SearchResult> sources = {{"file-01", "a.md", 1, {}},
                                               {"file-02", "b.txt", 1, {}}};
    const std::string text = "Bread [b.txt:1-2] and lamps [a.md:3].";
    const json notes = file_citations(text, sources);
    ASSERT_EQ(notes.size(), 2u);
    EXPECT_EQ(notes[0]["file_id"], "file-02");
    EXPECT_EQ(notes[0]["index"], text.find("[b.txt"));
    EXPECT_EQ(notes[1]["filename"], "a.md");
    EXPECT_EQ(notes[1]["index"], text.find("[a.md"));
    EXPECT_EQ(notes[1]["type"], "file_citation");
}

TEST(VectorStoreWire, AnAnswerCitingNothingCitesEverySourceAtItsEnd) {
    const std::vector<SearchResult> sources = {{"file-01", "a.md", 1, {}}};
    const json notes = file_citations("No citation here.", sources);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0]["index"], 17);
    EXPECT_TRUE(file_citations("text", {}).empty());
}

}  // namespace
}  // namespace lokal::server
