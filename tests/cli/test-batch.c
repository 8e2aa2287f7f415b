/* pcbdiff batch and pcbdiff db on a generated archive (two boards drawn by synthboard, small
 * images): every photo gets exactly one row, corrupt files and photos of the other board are
 * recorded with their reason, a re-run skips what is done, kill -9 at random moments and a
 * restart end with the same rows as an uninterrupted run, four shards merged equal one run, and
 * the audit chain names an edited, a deleted and a reordered row. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "testutil.h"

static char *dir, *board_a, *boards, *archive, *single_db, *single_rows;
static int n_photos;

static void
assert_contains(const char *text, const char *needle)
{
    if (text == NULL || strstr(text, needle) == NULL)
        g_error("\"%s\" does not contain \"%s\"", text ? text : "(null)", needle);
}

static const char *
synthboard(void)
{
    static char *path;
    if (path == NULL) {
        const char *bin = g_getenv("PCBDIFF") ? g_getenv("PCBDIFF") : "build/pcbdiff";
        g_autofree char *d = g_path_get_dirname(bin);
        path = g_build_filename(d, "tools", "synthboard", NULL);
    }
    return path;
}

static void
run_tool(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    int status = 0;
    g_autofree char *err = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &status, &error));
    g_assert_no_error(error);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("%s failed: %s", argv[0], err);
}

static void
make_board(const char *name, const char *seed)
{
    g_autofree char *d = g_build_filename(boards, name, NULL);
    g_assert_cmpint(g_mkdir_with_parents(d, 0755), ==, 0);
    g_autofree char *golden = g_build_filename(d, "golden.png", NULL);
    g_autofree char *ini = g_build_filename(d, "board.ini", NULL);
    const char *argv[]
        = { synthboard(),  "board", "--out",  golden, "--width-mm", "80", "--height-mm", "60",
            "--px-per-mm", "6",     "--seed", seed,   "--profile",  ini,  NULL };
    run_tool(argv);
}

static char *
make_photo(const char *board, const char *board_seed, const char *sub, int seed, gboolean implant)
{
    g_autofree char *golden = g_build_filename(boards, board, "golden.png", NULL);
    g_autofree char *d = g_build_filename(archive, sub, NULL);
    g_assert_cmpint(g_mkdir_with_parents(d, 0755), ==, 0);
    g_autofree char *name = g_strdup_printf("%s-%02d.jpg", board, seed);
    char *out = g_build_filename(d, name, NULL);
    g_autofree char *s = g_strdup_printf("%d", seed);
    const char *argv[] = { synthboard(),
                           "photo",
                           "--golden",
                           golden,
                           "--board-seed",
                           board_seed,
                           "--px-per-mm",
                           "6",
                           "--out",
                           out,
                           "--seed",
                           s,
                           implant ? "--implant" : NULL,
                           NULL };
    run_tool(argv);
    n_photos++;
    return out;
}

static gint
cmp_rows(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The rows of an export, without what differs from run to run (id, finished_at, row_hash, the
 * report's timings), one line per row, sorted. */
static char *
stable_rows(const char *db)
{
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "db", "export", "--jsonl", db, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_auto(GStrv) lines = g_strsplit(r.out, "\n", -1);
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(g_free);
    static const char *const keys[]
        = { "photo_path", "photo_sha256", "board",         "unit_id",
            "verdict",    "reason",       "params_sha256", "reference_sha256" };
    for (char **l = lines; *l != NULL; l++) {
        if (**l == '\0')
            continue;
        g_autoptr(JsonNode) node = json_from_string(*l, NULL);
        g_assert_nonnull(node);
        JsonObject *o = json_node_get_object(node);
        GString *row = g_string_new(NULL);
        for (guint k = 0; k < G_N_ELEMENTS(keys); k++) {
            const char *v = json_object_get_string_member_with_default(o, keys[k], "-");
            g_string_append_printf(row, "%s,", v ? v : "-");
        }
        g_string_append_printf(row, "%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT,
                               json_object_get_int_member(o, "n_findings"),
                               json_object_get_int_member(o, "exit_code"));
        JsonArray *f = json_object_get_array_member(o, "findings");
        for (guint i = 0; i < json_array_get_length(f); i++) {
            JsonObject *fi = json_array_get_object_element(f, i);
            JsonArray *b = json_object_get_array_member(fi, "bbox");
            g_string_append_printf(
                row, ",%s[%d %d %d %d]@%.6f", json_object_get_string_member(fi, "kind"),
                (int) json_array_get_int_element(b, 0), (int) json_array_get_int_element(b, 1),
                (int) json_array_get_int_element(b, 2), (int) json_array_get_int_element(b, 3),
                json_object_get_double_member(fi, "score"));
        }
        g_ptr_array_add(rows, g_string_free(row, FALSE));
    }
    g_ptr_array_sort(rows, cmp_rows);
    g_ptr_array_add(rows, NULL);
    return g_strjoinv("\n", (char **) rows->pdata);
}

static int
count_rows(const char *db)
{
    g_autofree char *rows = stable_rows(db);
    if (*rows == '\0')
        return 0;
    int n = 1;
    for (const char *p = rows; *p; p++)
        n += *p == '\n';
    return n;
}

static char *
db_path(const char *name)
{
    return g_build_filename(dir, name, NULL);
}

static void
setup(void)
{
    dir = g_strdup(tu_tmpdir());
    boards = g_build_filename(dir, "boards", NULL);
    archive = g_build_filename(dir, "archive", NULL);
    make_board("alpha", "11");
    make_board("beta", "12");
    board_a = g_build_filename(boards, "alpha", NULL);
    for (int i = 1; i <= 8; i++)
        g_free(make_photo("alpha", "11", i <= 4 ? "day1" : "day2/sub", i, i % 3 == 0));
    /* a photo of the other board, a truncated JPEG, a text file named like a PNG */
    g_free(make_photo("beta", "12", "day2", 21, FALSE));
    g_autofree char *good = g_build_filename(archive, "day1", "alpha-01.jpg", NULL);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(good, &bytes, &len, NULL));
    g_autofree char *cut = g_build_filename(archive, "day2", "truncated.jpg", NULL);
    g_assert_true(g_file_set_contents(cut, bytes, (gssize) (len / 3), NULL));
    g_autofree char *text = g_build_filename(archive, "day1", "notes.png", NULL);
    g_assert_true(g_file_set_contents(text, "not an image\n", -1, NULL));
    n_photos += 2;
    /* not a photo: skipped by the folder scan */
    g_autofree char *readme = g_build_filename(archive, "README.txt", NULL);
    g_assert_true(g_file_set_contents(readme, "archive\n", -1, NULL));
    single_db = db_path("single.sqlite");
}

static void
test_records_every_photo(void)
{
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "batch", "--board", board_a, "--db", single_db, "--jobs", "2", archive, NULL);
    g_assert_cmpint(r.status, ==, 2); /* the corrupt files */
    assert_contains(r.out, "11 photos");
    assert_contains(r.out, "2 error");
    assert_contains(r.out, "1 unregistered");
    assert_contains(r.err, "11/11 photos (100.0%)");
    g_assert_cmpint(count_rows(single_db), ==, n_photos);
    single_rows = stable_rows(single_db);
    assert_contains(single_rows, "truncated.jpg");
    assert_contains(single_rows, ",error,");
    assert_contains(single_rows, "corrupt or truncated JPEG");
    assert_contains(single_rows, "unsupported image format");
    assert_contains(single_rows, "beta-21.jpg");
    assert_contains(single_rows, ",unregistered,");
    assert_contains(single_rows, ",fail,");
    g_auto(TuRun) v = { 0 };
    tu_run(&v, "db", "verify", single_db, NULL);
    g_assert_cmpint(v.status, ==, 0);
    assert_contains(v.out, "verified, 11 rows");
    g_auto(TuRun) s = { 0 };
    tu_run(&s, "db", "summary", single_db, NULL);
    g_assert_cmpint(s.status, ==, 0);
    assert_contains(s.out, "alpha");
    assert_contains(s.out, "audit chain: 11 rows");
}

static void
test_rerun_skips_done(void)
{
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "batch", "--board", board_a, "--db", single_db, "-q", archive, NULL);
    g_assert_cmpint(r.status, ==, 2); /* the same summary as the first run */
    g_assert_cmpstr(r.out, ==, "");
    g_auto(TuRun) again = { 0 };
    tu_run(&again, "batch", "--board", board_a, "--db", single_db, archive, NULL);
    assert_contains(again.out, "11 done before");
    g_assert_cmpint(count_rows(single_db), ==, n_photos);
    /* a changed parameter inspects again, beside the old rows */
    g_autofree char *copy = db_path("changed.sqlite");
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(single_db, &bytes, &len, NULL));
    g_assert_true(g_file_set_contents(copy, bytes, (gssize) len, NULL));
    g_auto(TuRun) c = { 0 };
    tu_run(&c, "batch", "--board", board_a, "--db", copy, "--set", "findings.sensitivity=0.9",
           archive, NULL);
    assert_contains(c.out, "0 done before");
    g_assert_cmpint(count_rows(copy), ==, 2 * n_photos);
}

/* kill -9 at random moments, then the same command to the end */
static void
test_killed_and_resumed(void)
{
    g_autofree char *db = db_path("killed.sqlite");
    const char *bin = g_getenv("PCBDIFF") ? g_getenv("PCBDIFF") : "build/pcbdiff";
    const char *argv[]
        = { bin, "batch", "--board", board_a, "--db", db, "--jobs", "2", "-q", archive, NULL };
    for (int k = 0; k < 4; k++) {
        GPid pid = 0;
        g_autoptr(GError) error = NULL;
        g_assert_true(g_spawn_async(NULL, (char **) argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                                        | G_SPAWN_STDERR_TO_DEV_NULL,
                                    NULL, NULL, &pid, &error));
        g_assert_no_error(error);
        g_usleep((gulong) g_test_rand_int_range(20000, 500000));
        kill(pid, SIGKILL);
        int status = 0;
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_spawn_close_pid(pid);
        if (!g_file_test(db, G_FILE_TEST_EXISTS))
            continue; /* killed before it made the database */
        g_auto(TuRun) v = { 0 };
        tu_run(&v, "db", "verify", db, NULL);
        /* never a broken database or chain (a kill in the first milliseconds may leave an
           empty database, schema not yet written: the next run makes it) */
        if (v.status != 0 && strstr(v.err, "not a pcbdiff results database") == NULL)
            g_error("after kill %d: %s", k, v.err);
    }
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "batch", "--board", board_a, "--db", db, "--jobs", "2", archive, NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_autofree char *rows = stable_rows(db);
    g_assert_cmpstr(rows, ==, single_rows);
    g_auto(TuRun) v = { 0 };
    tu_run(&v, "db", "verify", db, NULL);
    g_assert_cmpint(v.status, ==, 0);
}

static void
test_shards_merge(void)
{
    g_autofree char *merged = db_path("merged.sqlite");
    g_autoptr(GPtrArray) shards = g_ptr_array_new_with_free_func(g_free);
    int total = 0;
    for (int i = 1; i <= 4; i++) {
        char *shard_db = g_strdup_printf("%s/shard-%d.sqlite", dir, i);
        g_autofree char *spec = g_strdup_printf("%d/4", i);
        g_auto(TuRun) r = { 0 };
        tu_run(&r, "batch", "--board", board_a, "--db", shard_db, "--shard", spec, "-q", archive,
               NULL);
        g_assert_cmpint(r.status, >=, 0);
        total += count_rows(shard_db);
        g_ptr_array_add(shards, shard_db);
    }
    g_assert_cmpint(total, ==, n_photos);  /* the shards split the photos */
    for (int pass = 0; pass < 2; pass++) { /* merging again changes nothing */
        g_auto(TuRun) m = { 0 };
        tu_run(&m, "db", "merge", merged, g_ptr_array_index(shards, 0),
               g_ptr_array_index(shards, 1), g_ptr_array_index(shards, 2),
               g_ptr_array_index(shards, 3), NULL);
        g_assert_cmpint(m.status, ==, 0);
        assert_contains(m.out, pass == 0 ? "rows, " : ", 0 new");
        g_autofree char *rows = stable_rows(merged);
        g_assert_cmpstr(rows, ==, single_rows);
        g_auto(TuRun) v = { 0 };
        tu_run(&v, "db", "verify", merged, NULL);
        g_assert_cmpint(v.status, ==, 0);
    }
}

static void
test_manifest_names_boards(void)
{
    g_autofree char *csv = g_build_filename(archive, "manifest.csv", NULL);
    g_autofree char *body = g_strdup_printf("photo,board,unit\n"
                                            "day1/alpha-01.jpg,alpha,SN-001\n"
                                            "\"day2/beta-21.jpg\",beta,SN-002\n"
                                            "day1/alpha-03.jpg,,SN-003\n");
    g_assert_true(g_file_set_contents(csv, body, -1, NULL));
    g_autofree char *jsonl = g_build_filename(archive, "more.jsonl", NULL);
    g_assert_true(g_file_set_contents(
        jsonl, "{\"photo\": \"day1/alpha-02.jpg\", \"board\": \"alpha\", \"unit\": 42}\n", -1,
        NULL));
    g_autofree char *db = db_path("manifest.sqlite");
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "batch", "--boards", boards, "--board", board_a, "--db", db, csv, jsonl, NULL);
    g_assert_cmpint(r.status, ==, 1); /* alpha-03 has the implant; beta-21 passes on beta */
    g_autofree char *rows = stable_rows(db);
    assert_contains(rows, "beta-21.jpg");
    assert_contains(rows, ",beta,SN-002,pass,");
    assert_contains(rows, ",alpha,SN-003,fail,");
    assert_contains(rows, ",alpha,42,pass,");
    assert_contains(rows, ",alpha,SN-001,pass,");
    g_assert_cmpint(count_rows(db), ==, 4);
    /* a malformed manifest stops the run before anything is written, naming the line */
    g_autofree char *bad = g_build_filename(dir, "bad.csv", NULL);
    g_assert_true(g_file_set_contents(bad, "photo,board\nx.jpg,alpha\n\"y.jpg,beta\n", -1, NULL));
    g_autofree char *db2 = db_path("bad.sqlite");
    g_auto(TuRun) b = { 0 };
    tu_run(&b, "batch", "--boards", boards, "--db", db2, bad, NULL);
    g_assert_cmpint(b.status, ==, 2);
    assert_contains(b.err, "bad.csv:3: unterminated quoted field");
    g_assert_false(g_file_test(db2, G_FILE_TEST_EXISTS));
    g_auto(TuRun) nb = { 0 }; /* a board named with nowhere to find it */
    tu_run(&nb, "batch", "--db", db2, csv, NULL);
    g_assert_cmpint(nb.status, ==, 2);
    assert_contains(nb.err, "no --boards");
}

static void
test_bad_options(void)
{
    g_autofree char *db = db_path("opts.sqlite");
    struct {
        const char *a, *b, *want;
    } cases[] = { { "--shard", "0/4", "--shard 0/4" },
                  { "--shard", "5/4", "--shard 5/4" },
                  { "--jobs", "-1", "--jobs -1" },
                  { "--set", "diff.nope=1", "diff.nope" } };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(TuRun) r = { 0 };
        tu_run(&r, "batch", "--board", board_a, "--db", db, cases[i].a, cases[i].b, archive, NULL);
        g_assert_cmpint(r.status, ==, 2);
        assert_contains(r.err, cases[i].want);
    }
    g_auto(TuRun) missing = { 0 };
    tu_run(&missing, "batch", "--board", board_a, "--db", db, "/nonexistent/photos", NULL);
    g_assert_cmpint(missing.status, ==, 2);
    assert_contains(missing.err, "/nonexistent/photos: No such file");
    /* a file that is not a results database is refused and left as it was */
    g_autofree char *foreign = db_path("foreign.sqlite");
    g_assert_true(g_file_set_contents(foreign, "just some text, not SQLite at all\n", -1, NULL));
    g_auto(TuRun) f = { 0 };
    tu_run(&f, "batch", "--board", board_a, "--db", foreign, archive, NULL);
    g_assert_cmpint(f.status, ==, 2);
    assert_contains(f.err, "not a results database");
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(foreign, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "just some text, not SQLite at all\n");
    g_auto(TuRun) nb = { 0 };
    tu_run(&nb, "batch", "--board", "/nonexistent/board", "--db", db, archive, NULL);
    g_assert_cmpint(nb.status, ==, 2);
    assert_contains(nb.err, "--board /nonexistent/board");
}

/* a copy of the single run's database with @sql applied to it */
static char *
tampered(const char *name, const char *sql)
{
    char *path = db_path(name);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    /* the single run's database is closed: its WAL is checkpointed into the file */
    g_assert_true(g_file_get_contents(single_db, &bytes, &len, NULL));
    g_assert_true(g_file_set_contents(path, bytes, (gssize) len, NULL));
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        g_error("%s: %s", sql, msg);
    sqlite3_close(db);
    return path;
}

static void
assert_verify_fails(const char *db, const char *row, const char *why)
{
    g_auto(TuRun) v = { 0 };
    tu_run(&v, "db", "verify", db, NULL);
    g_assert_cmpint(v.status, ==, 1);
    assert_contains(v.err, row);
    assert_contains(v.err, why);
}

static void
test_verify_detects_tampering(void)
{
    g_autofree char *edited = tampered("edited.sqlite", "UPDATE inspections SET verdict = "
                                                        "'pass', n_findings = 0, exit_code = 0 "
                                                        "WHERE verdict = 'fail' AND id = (SELECT "
                                                        "min(id) FROM inspections WHERE verdict "
                                                        "= 'fail')");
    assert_verify_fails(edited, "row ", "was edited");
    g_autofree char *finding
        = tampered("finding.sqlite", "UPDATE findings SET score = 0.01 WHERE idx = 0");
    assert_verify_fails(finding, "row ", "was edited");
    g_autofree char *deleted = tampered("deleted.sqlite", "DELETE FROM inspections WHERE id = 4");
    assert_verify_fails(deleted, "row 5 ", "deleted");
    g_autofree char *last = tampered(
        "last.sqlite", "DELETE FROM inspections WHERE id = (SELECT max(id) FROM inspections)");
    assert_verify_fails(last, "chain ends after 10 rows", "deleted");
    g_autofree char *swapped
        = tampered("swapped.sqlite", "UPDATE inspections SET id = -2 WHERE id = 2;"
                                     "UPDATE inspections SET id = 2 WHERE id = 3;"
                                     "UPDATE inspections SET id = 3 WHERE id = -2;");
    assert_verify_fails(swapped, "row 2 ", "reordered");
    g_auto(TuRun) ok = { 0 };
    tu_run(&ok, "db", "verify", single_db, NULL);
    g_assert_cmpint(ok.status, ==, 0);
    /* merge refuses a shard that does not verify */
    g_autofree char *out = db_path("from-edited.sqlite");
    g_auto(TuRun) m = { 0 };
    tu_run(&m, "db", "merge", out, edited, NULL);
    g_assert_cmpint(m.status, ==, 1);
    assert_contains(m.err, "was edited");
    g_auto(TuRun) foreign = { 0 };
    tu_run(&foreign, "db", "verify", "/nonexistent.sqlite", NULL);
    g_assert_cmpint(foreign.status, ==, 2);
}

/* a decisions file (the review page's export) in the test folder */
static char *
decisions_file(const char *name, const char *sha, const char *findings)
{
    char *path = db_path(name);
    g_autofree char *body
        = g_strdup_printf("{\"version\": 1, \"report\": \"%s\", \"operator\": \" Ana \", "
                          "\"decided_at\": \"2026-12-06T04:00:00.000Z\", \"findings\": [%s]}\n",
                          sha, findings);
    g_assert_true(g_file_set_contents(path, body, -1, NULL));
    return path;
}

/* the export --jsonl line of the inspection of photo @sha */
static JsonNode *
exported(const char *db, const char *sha)
{
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "db", "export", "--jsonl", db, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_auto(GStrv) lines = g_strsplit(r.out, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        if (**l == '\0')
            continue;
        JsonNode *node = json_from_string(*l, NULL);
        if (g_strcmp0(json_object_get_string_member(json_node_get_object(node), "photo_sha256"),
                      sha)
            == 0)
            return node;
        json_node_unref(node);
    }
    g_error("no row of photo %s in the export of %s", sha, db);
}

static const char *
finding_verification(JsonNode *row, guint i)
{
    JsonArray *f = json_object_get_array_member(json_node_get_object(row), "findings");
    return json_object_get_string_member(json_array_get_object_element(f, i), "verification");
}

static void
sql(const char *path, const char *statement)
{
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, statement, NULL, NULL, &msg) != SQLITE_OK)
        g_error("%s: %s", statement, msg);
    sqlite3_close(db);
}

static void
test_decide(void)
{
    g_autofree char *db = tampered("decided.sqlite", "SELECT 1");
    /* a failed inspection: its photo and findings */
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_open(db, &h), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_prepare_v2(h,
                                       "SELECT photo_sha256, n_findings FROM inspections WHERE "
                                       "verdict = 'fail' ORDER BY id LIMIT 1",
                                       -1, &st, NULL),
                    ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    g_autofree char *sha = g_strdup((const char *) sqlite3_column_text(st, 0));
    int n = sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(h);
    g_assert_cmpint(n, >=, 1);

    g_autofree char *first = decisions_file(
        "first.json", sha, "{\"index\": 0, \"verification\": \"DefectConfirmed\"}");
    g_auto(TuRun) d = { 0 };
    tu_run(&d, "db", "decide", db, first, NULL);
    g_assert_cmpint(d.status, ==, 0);
    assert_contains(d.out, "1 decisions recorded (1 confirmed");
    g_autoptr(JsonNode) row = exported(db, sha);
    g_assert_cmpstr(finding_verification(row, 0), ==, "DefectConfirmed");
    JsonObject *review = json_object_get_object_member(json_node_get_object(row), "review");
    g_assert_cmpstr(json_object_get_string_member(review, "operator"), ==, "Ana");
    g_assert_cmpstr(json_object_get_string_member(review, "decided_at"), ==,
                    "2026-12-06T04:00:00.000Z");
    if (n > 1)
        g_assert_cmpstr(finding_verification(row, 1), ==, "NotVerifiedYet");
    /* a later decision on the same finding wins; the first stays recorded */
    g_autofree char *second = decisions_file(
        "second.json", sha, "{\"index\": 0, \"verification\": \"DefectRejected\"}");
    g_auto(TuRun) d2 = { 0 };
    tu_run(&d2, "db", "decide", db, second, NULL);
    g_assert_cmpint(d2.status, ==, 0);
    g_autoptr(JsonNode) row2 = exported(db, sha);
    g_assert_cmpstr(finding_verification(row2, 0), ==, "DefectRejected");
    g_auto(TuRun) csv = { 0 };
    tu_run(&csv, "db", "export", "--csv", db, NULL);
    assert_contains(csv.out, "row_hash,confirmed,rejected,accepted\n");
    assert_contains(csv.out, ",0,1,0\n");

    /* refused, one line each, nothing written */
    g_autofree char *range_body
        = g_strdup_printf("{\"index\": %d, \"verification\": \"DefectConfirmed\"}", n);
    g_autofree char *range = decisions_file("range.json", sha, range_body);
    g_autofree char *name
        = decisions_file("name.json", sha, "{\"index\": 0, \"verification\": \"Maybe\"}");
    g_autofree char *unknown = decisions_file(
        "unknown.json", "00000000000000000000000000000000000000000000000000000000000000ab", "");
    struct {
        const char *file, *board, *want;
    } bad[] = { { unknown, NULL, "no inspection of photo 0000" },
                { range, NULL, "is out of range" },
                { name, NULL, "unknown verification \"Maybe\"" },
                { first, "beta", "on board beta" } };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_auto(TuRun) r = { 0 };
        if (bad[i].board != NULL)
            tu_run(&r, "db", "decide", "--board", bad[i].board, db, bad[i].file, NULL);
        else
            tu_run(&r, "db", "decide", db, bad[i].file, NULL);
        g_assert_cmpint(r.status, ==, 2);
        assert_contains(r.err, bad[i].want);
        g_assert_null(strchr(r.err, '\n') == NULL ? NULL : strchr(strchr(r.err, '\n') + 1, '\n'));
    }
    /* both chains verify: the inspections' rows were not touched */
    g_auto(TuRun) v = { 0 };
    tu_run(&v, "db", "verify", db, NULL);
    g_assert_cmpint(v.status, ==, 0);
    assert_contains(v.out, "verified, 11 rows");
    assert_contains(v.out, "2 decision rows");

    /* the first file again: recorded again, and it is the latest (here and after a merge) */
    g_auto(TuRun) d3 = { 0 };
    tu_run(&d3, "db", "decide", db, first, NULL);
    g_assert_cmpint(d3.status, ==, 0);
    g_autoptr(JsonNode) row4 = exported(db, sha);
    g_assert_cmpstr(finding_verification(row4, 0), ==, "DefectConfirmed");

    /* merge carries the decisions, once */
    g_autofree char *merged = db_path("decided-merged.sqlite");
    for (int pass = 0; pass < 2; pass++) {
        g_auto(TuRun) m = { 0 };
        tu_run(&m, "db", "merge", merged, db, NULL);
        g_assert_cmpint(m.status, ==, 0);
        assert_contains(m.out, pass == 0 ? ", 3 new decisions" : ", 0 new decisions");
    }
    g_autoptr(JsonNode) row3 = exported(merged, sha);
    g_assert_cmpstr(finding_verification(row3, 0), ==, "DefectConfirmed");
    g_auto(TuRun) mv = { 0 };
    tu_run(&mv, "db", "verify", merged, NULL);
    g_assert_cmpint(mv.status, ==, 0);
    assert_contains(mv.out, "3 decision rows");

    /* an edited decision row is named; so are deleted last ones */
    sql(db, "UPDATE decisions SET verification = 'DefectAccepted' WHERE id = 1");
    assert_verify_fails(db, "decision row 1 ", "was edited");
    sql(merged, "DELETE FROM decisions WHERE id = 3");
    assert_verify_fails(merged, "decisions chain ends after 2 rows", "deleted");
    /* a database from before decisions gets the table when opened (single_db, verified above) */
    g_auto(TuRun) ok = { 0 };
    tu_run(&ok, "db", "verify", single_db, NULL);
    g_assert_cmpint(ok.status, ==, 0);
    assert_contains(ok.out, "0 decision rows");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    setup();
    g_test_add_func("/batch/records-every-photo", test_records_every_photo);
    g_test_add_func("/batch/rerun-skips-done", test_rerun_skips_done);
    g_test_add_func("/batch/killed-and-resumed", test_killed_and_resumed);
    g_test_add_func("/batch/shards-merge-to-one-run", test_shards_merge);
    g_test_add_func("/batch/manifest-names-boards", test_manifest_names_boards);
    g_test_add_func("/batch/bad-options", test_bad_options);
    g_test_add_func("/db/verify-detects-tampering", test_verify_detects_tampering);
    g_test_add_func("/db/decide", test_decide);
    return g_test_run();
}
