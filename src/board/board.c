/* Board profiles: DIR/board.ini, read with GKeyFile and checked key by key.
 *
 * GKeyFile alone is not enough for the format in board.h: it reports no line numbers, merges
 * repeated groups and keys silently (a second [zone BMC] would quietly rewrite the first), and
 * knows only '#' comments at the start of a line, while board.h writes ';' comments and comments
 * after values. So the text is first cleaned and indexed here, one line at a time:
 *
 *   - a comment starts at '#' or ';' at the start of a line, or at a '#' or ';' that follows a
 *     blank and is not followed by something that begins like a number; so
 *     "rects = 1,2,3,4; 5,6,7,8 ; stickers" keeps both rectangles and drops "; stickers";
 *   - comments are blanked and CR LF folded, but every line is kept, so line numbers still match;
 *   - each [group] header and each key is recorded with its line; a line that is none of blank,
 *     comment, [group] or key = value is a syntax error at that line, and so are repeated groups,
 *     repeated keys and repeated zone names.
 *
 * GKeyFile then parses the cleaned text (names and values), and every error of the profile is
 * reported as "PATH:LINE: reason" from that index (line 0 when an error belongs to the whole
 * file, e.g. a missing [board] group). Values are taken raw (g_key_file_get_value: no escape
 * sequences), numbers are read in the C locale with the whole string checked.
 *
 * Private state (the file path, the line of every zone, rect-mm rectangles) lives in BoardPriv,
 * which embeds PcbBoard as its first member: every PcbBoard comes from pcb_board_load() or
 * pcb_board_new_from_image() and is freed by pcb_board_free().
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include "pcbdiff/board.h"
#include "pcbdiff/error.h"
#include "pcbdiff/inspect.h"
#include "core/util.h"

#define MAX_COORD        1e6 /* |x|, |y|, w, h as written, in px or mm */
#define MAX_WIDTH_MM     1e6
#define MAX_PROFILE_SIZE (1 << 20)

/* ---------------------------------------------------------------- private board */

typedef struct {
    int line;       /* of rect or rect-mm; 0 when the zone did not come from a file */
    gboolean in_mm; /* rect-mm: @mm is what was written, PcbZone.rect is derived from it */
    PcbRect mm;
} ZoneSource;

typedef struct {
    PcbBoard pub;   /* first member: a PcbBoard * is a BoardPriv * */
    char *ini_path; /* for messages; NULL for a board without a profile */
    int width_mm_line;
    GArray *zone_src;   /* ZoneSource, parallel to pub.zones */
    guint n_ignore_ini; /* pub.ignore[0 .. n) come from [ignore] rects ... */
    int ignore_line;    /* ... at this line */
    GArray *overrides;  /* Override: [register], [diff], [findings] values, checked */
} BoardPriv;

typedef struct {
    const PcbParamSpec *spec;
    double value;
} Override;

static void
zone_clear(gpointer data)
{
    PcbZone *zone = data;
    g_clear_pointer(&zone->name, g_free);
}

static BoardPriv *
board_new(void)
{
    BoardPriv *b = g_new0(BoardPriv, 1);
    b->pub.zones = g_array_new(FALSE, TRUE, sizeof(PcbZone));
    g_array_set_clear_func(b->pub.zones, zone_clear);
    b->pub.ignore = g_array_new(FALSE, TRUE, sizeof(PcbRect));
    b->zone_src = g_array_new(FALSE, TRUE, sizeof(ZoneSource));
    b->overrides = g_array_new(FALSE, TRUE, sizeof(Override));
    return b;
}

void
pcb_board_free(PcbBoard *board)
{
    if (board == NULL)
        return;
    BoardPriv *b = (BoardPriv *) board;
    g_free(board->dir);
    g_free(board->name);
    g_free(board->golden_path);
    g_free(board->ignore_mask_path);
    if (board->zones != NULL)
        g_array_unref(board->zones);
    if (board->ignore != NULL)
        g_array_unref(board->ignore);
    g_array_unref(b->zone_src);
    g_array_unref(b->overrides);
    g_free(b->ini_path);
    g_free(b);
}

/* ---------------------------------------------------------------- errors, numbers */

static gboolean G_GNUC_PRINTF(4, 5)
    profile_error(GError **error, const char *path, int line, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *reason = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error(error, PCB_ERROR, PCB_ERROR_PROFILE, "%s:%d: %s", path, line, reason);
    return FALSE;
}

/* A finite decimal number, C locale, nothing else around it (blanks excepted). */
static gboolean
parse_number(const char *text, double *out)
{
    g_autofree char *s = g_strstrip(g_strdup(text));
    return pcb_parse_number(s, FALSE, out);
}

/* "x, y, w, h" */
static gboolean
parse_rect(const char *text, PcbRect *out)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", 0);
    double v[4];
    if (g_strv_length(parts) != 4)
        return FALSE;
    for (int i = 0; i < 4; i++) {
        if (!parse_number(parts[i], &v[i]))
            return FALSE;
    }
    *out = (PcbRect){ v[0], v[1], v[2], v[3] };
    return TRUE;
}

/* The reason when @path is not a readable regular file, or NULL. */
static const char *
file_problem(const char *path)
{
    GStatBuf st;
    if (g_stat(path, &st) != 0)
        return g_strerror(errno);
    if (!S_ISREG(st.st_mode))
        return "not a regular file";
    return NULL;
}

/* ---------------------------------------------------------------- the indexed text */

typedef struct {
    char *name;
    int line;
} Entry;

typedef struct {
    char *name; /* as GKeyFile sees it, e.g. "zone BMC" */
    int line;
    GArray *keys; /* Entry, file order */
} Group;

typedef struct {
    const char *path;  /* board.ini, for messages */
    char **lines;      /* cleaned text: line n is lines[n - 1] */
    GPtrArray *groups; /* Group *, file order */
    GKeyFile *kf;
} Ini;

static void
entry_clear(gpointer data)
{
    g_free(((Entry *) data)->name);
}

static void
group_free(gpointer data)
{
    Group *g = data;
    g_free(g->name);
    g_array_unref(g->keys);
    g_free(g);
}

static void
ini_clear(Ini *ini)
{
    g_clear_pointer(&ini->lines, g_strfreev);
    g_clear_pointer(&ini->groups, g_ptr_array_unref);
    g_clear_pointer(&ini->kf, g_key_file_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Ini, ini_clear)

static int
line_at(const char *text, const char *p)
{
    int line = 1;
    for (const char *q = text; q < p; q++)
        line += *q == '\n';
    return line;
}

/* Strips blanks and comments in place (see the top of the file). */
static void
strip_comment(char *s)
{
    g_strstrip(s);
    if (s[0] == '#' || s[0] == ';') {
        s[0] = '\0';
        return;
    }
    for (char *p = s; *p != '\0'; p++) {
        if ((*p != '#' && *p != ';') || p == s || (p[-1] != ' ' && p[-1] != '\t'))
            continue;
        const char *q = p + 1;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '\0' || strchr("0123456789+-.", *q) == NULL) {
            *p = '\0';
            g_strchomp(s);
            return;
        }
    }
}

/* The line of the first line containing the name GKeyFile quotes in @message, or 0. */
static int
find_reported_line(char **lines, const char *message)
{
    g_autofree char *needle = NULL;
    const char *open = strstr(message, "\xe2\x80\x9c");                         /* “ */
    const char *close = open != NULL ? strstr(open + 3, "\xe2\x80\x9d") : NULL; /* ” */
    if (close != NULL)
        needle = g_strndup(open + 3, (gsize) (close - open - 3));
    else if (strrchr(message, ':') != NULL) /* "Invalid key name: ke[y" */
        needle = g_strstrip(g_strdup(strrchr(message, ':') + 1));
    if (needle == NULL || *needle == '\0')
        return 0;
    for (int i = 0; lines[i] != NULL; i++) {
        if (strstr(lines[i], needle) != NULL)
            return i + 1;
    }
    return 0;
}

/* A control character other than a tab or a final CR (of CR LF) in line @line: an error. */
static gboolean
check_controls(const char *path, int line, const char *s, GError **error)
{
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '\t' || (*p == '\r' && p[1] == '\0')) /* CR LF */
            continue;
        if ((guchar) *p < 0x20 || *p == 0x7f)
            return profile_error(error, path, line, "control character 0x%02x",
                                 (unsigned) (guchar) *p);
    }
    return TRUE;
}

/* "[name]" at @line: a new group, or an error for an empty or repeated name. */
static Group *
index_group(Ini *ini, GHashTable *seen, const char *s, int line, GError **error)
{
    size_t n = strlen(s);
    if (s[n - 1] != ']') {
        profile_error(error, ini->path, line, "expected [group], got \"%s\"", s);
        return NULL;
    }
    g_autofree char *name = g_strndup(s + 1, n - 2);
    gpointer first = g_hash_table_lookup(seen, name);
    if (*name == '\0')
        profile_error(error, ini->path, line, "empty group name []");
    else if (first != NULL)
        profile_error(error, ini->path, line, "duplicate group [%s] (first at line %d)", name,
                      GPOINTER_TO_INT(first));
    if (*name == '\0' || first != NULL)
        return NULL;
    Group *group = g_new0(Group, 1);
    group->name = g_steal_pointer(&name);
    group->line = line;
    group->keys = g_array_new(FALSE, TRUE, sizeof(Entry));
    g_array_set_clear_func(group->keys, entry_clear);
    g_ptr_array_add(ini->groups, group);
    g_hash_table_insert(seen, group->name, GINT_TO_POINTER(line));
    return group;
}

/* "key = value" at @line in @group: the key recorded, or an error. */
static gboolean
index_key(const Ini *ini, Group *group, const char *s, int line, GError **error)
{
    const char *eq = strchr(s, '=');
    if (eq == NULL)
        return profile_error(error, ini->path, line,
                             "expected key = value, [group] or a comment, got \"%s\"", s);
    if (eq == s)
        return profile_error(error, ini->path, line, "no key before '=' in \"%s\"", s);
    if (group == NULL)
        return profile_error(error, ini->path, line, "\"%s\" comes before any [group]", s);
    g_autofree char *name = g_strchomp(g_strndup(s, (gsize) (eq - s)));
    for (guint k = 0; k < group->keys->len; k++) {
        const Entry *other = &g_array_index(group->keys, Entry, k);
        if (strcmp(other->name, name) == 0)
            return profile_error(error, ini->path, line, "[%s] duplicate key %s (first at line %d)",
                                 group->name, name, other->line);
    }
    Entry key = { g_steal_pointer(&name), line };
    g_array_append_val(group->keys, key);
    return TRUE;
}

/* Cleans and indexes @text, then parses it with GKeyFile. */
static gboolean
ini_parse(Ini *ini, const char *text, gsize len, GError **error)
{
    const char *path = ini->path;
    const char *bad = memchr(text, '\0', len);
    if (bad != NULL)
        return profile_error(error, path, line_at(text, bad), "NUL byte in the file");
    if (!g_utf8_validate_len(text, len, &bad))
        return profile_error(error, path, line_at(text, bad), "not valid UTF-8");
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) /* byte order mark */
        text += 3;

    ini->lines = g_strsplit(text, "\n", -1);
    ini->groups = g_ptr_array_new_with_free_func(group_free);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal); /* group -> line */
    g_autoptr(GString) clean = g_string_new(NULL);
    Group *group = NULL;
    for (int i = 0; ini->lines[i] != NULL; i++) {
        char *s = ini->lines[i];
        if (!check_controls(path, i + 1, s, error))
            return FALSE;
        strip_comment(s);
        g_string_append(clean, s);
        g_string_append_c(clean, '\n');
        if (*s == '[' && (group = index_group(ini, seen, s, i + 1, error)) == NULL)
            return FALSE;
        if (*s != '\0' && *s != '[' && !index_key(ini, group, s, i + 1, error))
            return FALSE;
    }

    GError *local = NULL;
    ini->kf = g_key_file_new();
    if (!g_key_file_load_from_data(ini->kf, clean->str, clean->len, G_KEY_FILE_NONE, &local)) {
        profile_error(error, path, find_reported_line(ini->lines, local->message), "%s",
                      local->message);
        g_error_free(local);
        return FALSE;
    }
    return TRUE;
}

static const Entry *
find_key(const Group *g, const char *key)
{
    for (guint i = 0; i < g->keys->len; i++) {
        const Entry *e = &g_array_index(g->keys, Entry, i);
        if (strcmp(e->name, key) == 0)
            return e;
    }
    return NULL;
}

/* The raw value, blanks stripped. */
static char *
value_of(const Ini *ini, const Group *g, const Entry *key)
{
    char *v = g_key_file_get_value(ini->kf, g->name, key->name, NULL);
    return v != NULL ? g_strstrip(v) : g_strdup("");
}

/* Every key of @g must be in @known (NULL-terminated). */
static gboolean
check_keys(const Ini *ini, const Group *g, const char *const *known, GError **error)
{
    for (guint i = 0; i < g->keys->len; i++) {
        const Entry *e = &g_array_index(g->keys, Entry, i);
        if (g_strv_contains(known, e->name))
            continue;
        g_autoptr(GString) list = g_string_new(NULL);
        for (const char *const *k = known; *k != NULL; k++)
            g_string_append_printf(list, "%s%s", k == known ? "" : ", ", *k);
        return profile_error(error, ini->path, e->line, "[%s] unknown key \"%s\" (known: %s)",
                             g->name, e->name, list->str);
    }
    return TRUE;
}

static gboolean
get_number(const Ini *ini, const Group *g, const Entry *key, double *out, GError **error)
{
    g_autofree char *v = value_of(ini, g, key);
    if (!parse_number(v, out))
        return profile_error(error, ini->path, key->line, "[%s] %s: expected a number, got \"%s\"",
                             g->name, key->name, v);
    return TRUE;
}

/* Parses and checks one rectangle; @what names it in messages ("[zone BMC] rect"). */
static gboolean
check_rect(const Ini *ini, int line, const char *what, const char *text, PcbRect *r, GError **error)
{
    if (!parse_rect(text, r))
        return profile_error(error, ini->path, line,
                             "%s: expected 4 numbers x, y, w, h, got \"%s\"", what, text);
    if (r->w <= 0 || r->h <= 0)
        return profile_error(error, ini->path, line, "%s: width and height must be > 0, got \"%s\"",
                             what, text);
    if (fabs(r->x) > MAX_COORD || fabs(r->y) > MAX_COORD || r->w > MAX_COORD || r->h > MAX_COORD)
        return profile_error(error, ini->path, line,
                             "%s: every number must be at most %g in size, got \"%s\"", what,
                             MAX_COORD, text);
    return TRUE;
}

/* ---------------------------------------------------------------- groups */

static const char *const board_keys[] = { "name", "golden", "px-per-mm", "width-mm", NULL };
static const char *const zone_keys[] = { "rect", "rect-mm", "sensitivity", NULL };
static const char *const ignore_keys[] = { "rects", "mask", NULL };

/* The largest scale a profile or the command line may give: the inspect.px-per-mm range. */
static double
max_px_per_mm(void)
{
    return pcb_param_lookup("inspect.px-per-mm")->max;
}

/* [register], [diff] or [findings]: each key a parameter of that stage (pcbdiff params),
 * parsed and checked against its range now, applied by pcb_board_apply_params(). */
static gboolean
load_params_group(BoardPriv *b, const Ini *ini, const Group *g, GError **error)
{
    for (guint i = 0; i < g->keys->len; i++) {
        const Entry *e = &g_array_index(g->keys, Entry, i);
        g_autofree char *key = g_strdup_printf("%s.%s", g->name, e->name);
        const PcbParamSpec *spec = pcb_param_lookup(key);
        if (spec == NULL)
            return profile_error(error, ini->path, e->line,
                                 "[%s] unknown parameter \"%s\" (pcbdiff params lists them)",
                                 g->name, e->name);
        g_autofree char *v = value_of(ini, g, e);
        g_autoptr(GError) local = NULL;
        Override o = { spec, 0 };
        if (!pcb_param_parse(spec, v, &o.value, &local))
            return profile_error(error, ini->path, e->line, "[%s] %s", g->name, local->message);
        g_array_append_val(b->overrides, o);
    }
    return TRUE;
}

static gboolean
is_params_group(const char *name)
{
    return strcmp(name, "register") == 0 || strcmp(name, "diff") == 0
           || strcmp(name, "findings") == 0;
}

static gboolean
load_board_group(BoardPriv *b, const Ini *ini, const Group *g, GError **error)
{
    PcbBoard *board = &b->pub;
    const Entry *k;

    if (!check_keys(ini, g, board_keys, error))
        return FALSE;

    if ((k = find_key(g, "name")) != NULL) {
        g_autofree char *v = value_of(ini, g, k);
        if (*v == '\0')
            return profile_error(error, ini->path, k->line, "[board] name: must not be empty");
        g_free(board->name);
        board->name = g_steal_pointer(&v);
    }

    k = find_key(g, "golden");
    g_autofree char *golden = k != NULL ? value_of(ini, g, k) : g_strdup("golden.png");
    int golden_line = k != NULL ? k->line : g->line;
    if (*golden == '\0')
        return profile_error(error, ini->path, golden_line, "[board] golden: must not be empty");
    board->golden_path = g_path_is_absolute(golden) ? g_strdup(golden)
                                                    : g_build_filename(board->dir, golden, NULL);
    const char *problem = file_problem(board->golden_path);
    if (problem != NULL)
        return profile_error(error, ini->path, golden_line, "[board] golden: %s: %s",
                             board->golden_path, problem);

    const Entry *pk = find_key(g, "px-per-mm"), *wk = find_key(g, "width-mm");
    if (pk != NULL && wk != NULL)
        return profile_error(error, ini->path, MAX(pk->line, wk->line),
                             "[board] px-per-mm and width-mm are mutually exclusive (give one)");
    if (pk != NULL) {
        if (!get_number(ini, g, pk, &board->px_per_mm, error))
            return FALSE;
        if (board->px_per_mm <= 0 || board->px_per_mm > max_px_per_mm())
            return profile_error(error, ini->path, pk->line,
                                 "[board] px-per-mm: must be > 0 and at most %g, got %g",
                                 max_px_per_mm(), board->px_per_mm);
    }
    if (wk != NULL) {
        if (!get_number(ini, g, wk, &board->width_mm, error))
            return FALSE;
        if (board->width_mm <= 0 || board->width_mm > MAX_WIDTH_MM)
            return profile_error(error, ini->path, wk->line,
                                 "[board] width-mm: must be > 0 and at most %g, got %g",
                                 MAX_WIDTH_MM, board->width_mm);
        b->width_mm_line = wk->line;
    }
    return TRUE;
}

static gboolean
load_zone_group(BoardPriv *b, const Ini *ini, const Group *g, GHashTable *names, GError **error)
{
    if (!check_keys(ini, g, zone_keys, error))
        return FALSE;

    g_autofree char *name = g_strstrip(g_strdup(g->name + strlen("zone")));
    if (*name == '\0')
        return profile_error(error, ini->path, g->line, "[%s] needs a name: [zone NAME]", g->name);
    gpointer first = g_hash_table_lookup(names, name);
    if (first != NULL)
        return profile_error(error, ini->path, g->line, "duplicate zone \"%s\" (first at line %d)",
                             name, GPOINTER_TO_INT(first));

    const Entry *rk = find_key(g, "rect"), *mk = find_key(g, "rect-mm");
    if (rk != NULL && mk != NULL)
        return profile_error(error, ini->path, MAX(rk->line, mk->line),
                             "[%s] rect and rect-mm are mutually exclusive (give one)", g->name);
    if (rk == NULL && mk == NULL)
        return profile_error(error, ini->path, g->line,
                             "[%s] needs rect (pixels) or rect-mm (millimetres)", g->name);
    const Entry *k = rk != NULL ? rk : mk;
    g_autofree char *text = value_of(ini, g, k);
    g_autofree char *what = g_strdup_printf("[%s] %s", g->name, k->name);
    PcbRect r;
    if (!check_rect(ini, k->line, what, text, &r, error))
        return FALSE;

    double sensitivity = 1.0;
    const Entry *sk = find_key(g, "sensitivity");
    if (sk != NULL) {
        if (!get_number(ini, g, sk, &sensitivity, error))
            return FALSE;
        const PcbParamSpec *range = pcb_param_lookup("findings.sensitivity");
        if (sensitivity < range->min || sensitivity > range->max)
            return profile_error(error, ini->path, sk->line,
                                 "[%s] sensitivity: must be %g .. %g, got %g", g->name, range->min,
                                 range->max, sensitivity);
    }

    ZoneSource src = { k->line, mk != NULL, r };
    PcbZone zone = { g_strdup(name), r, sensitivity };
    if (src.in_mm)
        zone.rect = (PcbRect){ 0, 0, 0, 0 }; /* until the scale is known */
    g_array_append_val(b->pub.zones, zone);
    g_array_append_val(b->zone_src, src);
    g_hash_table_insert(names, g_steal_pointer(&name), GINT_TO_POINTER(g->line));
    return TRUE;
}

static gboolean
load_ignore_group(BoardPriv *b, const Ini *ini, const Group *g, GError **error)
{
    PcbBoard *board = &b->pub;
    const Entry *k;

    if (!check_keys(ini, g, ignore_keys, error))
        return FALSE;

    if ((k = find_key(g, "rects")) != NULL) {
        g_autofree char *text = value_of(ini, g, k);
        g_auto(GStrv) items = g_strsplit(text, ";", 0);
        guint n = 0;
        for (int i = 0; items[i] != NULL; i++) {
            g_strstrip(items[i]);
            if (*items[i] == '\0') /* "a; b;" */
                continue;
            g_autofree char *what = g_strdup_printf("[ignore] rects: rectangle %u", ++n);
            PcbRect r;
            if (!check_rect(ini, k->line, what, items[i], &r, error))
                return FALSE;
            g_array_append_val(board->ignore, r);
        }
        b->n_ignore_ini = board->ignore->len;
        b->ignore_line = k->line;
    }

    if ((k = find_key(g, "mask")) != NULL) {
        g_autofree char *mask = value_of(ini, g, k);
        if (*mask == '\0')
            return profile_error(error, ini->path, k->line, "[ignore] mask: must not be empty");
        board->ignore_mask_path
            = g_path_is_absolute(mask) ? g_strdup(mask) : g_build_filename(board->dir, mask, NULL);
        const char *problem = file_problem(board->ignore_mask_path);
        if (problem != NULL)
            return profile_error(error, ini->path, k->line, "[ignore] mask: %s: %s",
                                 board->ignore_mask_path, problem);
    }
    return TRUE;
}

/* rect-mm zones -> pixels at the board's current scale (no-op while it is unknown). */
static void
convert_mm_zones(BoardPriv *b)
{
    double s = b->pub.px_per_mm;
    if (s <= 0)
        return;
    for (guint i = 0; i < b->pub.zones->len && i < b->zone_src->len; i++) {
        const ZoneSource *src = &g_array_index(b->zone_src, ZoneSource, i);
        if (src->in_mm)
            g_array_index(b->pub.zones, PcbZone, i).rect
                = (PcbRect){ src->mm.x * s, src->mm.y * s, src->mm.w * s, src->mm.h * s };
    }
}

static gboolean
load_profile(BoardPriv *b, const Ini *ini, GError **error)
{
    const Group *board_group = NULL;
    for (guint i = 0; i < ini->groups->len && board_group == NULL; i++) {
        const Group *g = ini->groups->pdata[i];
        if (strcmp(g->name, "board") == 0)
            board_group = g;
    }
    if (board_group == NULL)
        return profile_error(error, ini->path, 0, "missing [board] group");
    if (!load_board_group(b, ini, board_group, error))
        return FALSE;

    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < ini->groups->len; i++) {
        const Group *g = ini->groups->pdata[i];
        gboolean ok = TRUE;
        if (g == board_group)
            continue;
        if (strcmp(g->name, "ignore") == 0)
            ok = load_ignore_group(b, ini, g, error);
        else if (strcmp(g->name, "zone") == 0 || g_str_has_prefix(g->name, "zone "))
            ok = load_zone_group(b, ini, g, names, error);
        else if (is_params_group(g->name))
            ok = load_params_group(b, ini, g, error);
        else
            ok = profile_error(error, ini->path, g->line,
                               "unknown group [%s] (known: [board], [zone NAME], [ignore], "
                               "[register], [diff], [findings])",
                               g->name);
        if (!ok)
            return FALSE;
    }
    convert_mm_zones(b);
    return TRUE;
}

/* ---------------------------------------------------------------- public API */

PcbBoard *
pcb_board_load(const char *dir, GError **error)
{
    g_return_val_if_fail(dir != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    g_autofree char *ini_path = g_build_filename(dir, "board.ini", NULL);
    g_autofree char *text = NULL;
    gsize len = 0;
    GError *local = NULL;
    if (!g_file_get_contents(ini_path, &text, &len, &local)) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
            || g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOTDIR))
            g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s: no board profile (%s): %s", dir,
                        ini_path, g_strerror(ENOENT));
        else
            g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s: cannot read the board profile: %s",
                        dir, local->message);
        g_error_free(local);
        return NULL;
    }
    if (len > MAX_PROFILE_SIZE) {
        profile_error(error, ini_path, 0, "larger than %d bytes", MAX_PROFILE_SIZE);
        return NULL;
    }

    g_auto(Ini) ini = { .path = ini_path };
    if (!ini_parse(&ini, text, len, error))
        return NULL;

    BoardPriv *b = board_new();
    g_autoptr(PcbBoard) board = &b->pub;
    g_autofree char *canonical = g_canonicalize_filename(dir, NULL);
    board->dir = g_strdup(dir);
    board->name = g_path_get_basename(canonical); /* replaced by [board] name */
    b->ini_path = g_strdup(ini_path);
    if (!load_profile(b, &ini, error))
        return NULL;
    return g_steal_pointer(&board);
}

PcbBoard *
pcb_board_new_from_image(const char *golden_path, double px_per_mm)
{
    g_return_val_if_fail(golden_path != NULL, NULL);
    g_return_val_if_fail(px_per_mm >= 0 && isfinite(px_per_mm), NULL);

    BoardPriv *b = board_new();
    PcbBoard *board = &b->pub;
    board->dir = g_path_get_dirname(golden_path);
    board->golden_path = g_strdup(golden_path);
    board->px_per_mm = px_per_mm;
    board->name = g_path_get_basename(golden_path);
    char *dot = strrchr(board->name, '.');
    if (dot != NULL && dot != board->name)
        *dot = '\0';
    return board;
}

PcbBoard *
pcb_board_open(const char *reference, double px_per_mm, GError **error)
{
    if (g_file_test(reference, G_FILE_TEST_IS_DIR))
        return pcb_board_load(reference, error);
    if (!g_file_test(reference, G_FILE_TEST_EXISTS)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s: No such file or directory", reference);
        return NULL;
    }
    return pcb_board_new_from_image(reference, px_per_mm);
}

static gboolean
overlaps(const PcbRect *r, int width, int height)
{
    return r->x < width && r->x + r->w > 0 && r->y < height && r->y + r->h > 0;
}

gboolean
pcb_board_resolve(PcbBoard *board, int golden_width, int golden_height, GError **error)
{
    g_return_val_if_fail(board != NULL, FALSE);
    g_return_val_if_fail(golden_width > 0 && golden_height > 0, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    BoardPriv *b = (BoardPriv *) board;
    const char *path = b->ini_path != NULL ? b->ini_path : "(no board.ini)";

    if (board->width_mm > 0) {
        double s = golden_width / board->width_mm;
        if (s > max_px_per_mm())
            return profile_error(error, path, b->width_mm_line,
                                 "[board] width-mm: %g mm over %d px is %g px/mm, more than %g",
                                 board->width_mm, golden_width, s, max_px_per_mm());
        board->px_per_mm = s;
    }

    for (guint i = 0; i < board->zones->len; i++) {
        const PcbZone *zone = &g_array_index(board->zones, PcbZone, i);
        ZoneSource src = { 0, FALSE, { 0, 0, 0, 0 } };
        if (i < b->zone_src->len)
            src = g_array_index(b->zone_src, ZoneSource, i);
        if (src.in_mm && board->px_per_mm <= 0)
            return profile_error(error, path, src.line,
                                 "[zone %s] rect-mm needs the board's scale "
                                 "(px-per-mm or width-mm in [board])",
                                 zone->name);
    }
    convert_mm_zones(b);

    for (guint i = 0; i < board->zones->len; i++) {
        const PcbZone *zone = &g_array_index(board->zones, PcbZone, i);
        const ZoneSource *src
            = i < b->zone_src->len ? &g_array_index(b->zone_src, ZoneSource, i) : NULL;
        if (!overlaps(&zone->rect, golden_width, golden_height))
            return profile_error(error, path, src != NULL ? src->line : 0,
                                 "[zone %s] %s lies outside the golden image (%d x %d)", zone->name,
                                 src != NULL && src->in_mm ? "rect-mm" : "rect", golden_width,
                                 golden_height);
    }
    for (guint i = 0; i < board->ignore->len; i++) {
        const PcbRect *r = &g_array_index(board->ignore, PcbRect, i);
        if (!overlaps(r, golden_width, golden_height))
            return profile_error(error, path, i < b->n_ignore_ini ? b->ignore_line : 0,
                                 "[ignore] rects: rectangle %u (%g, %g, %g, %g) lies outside "
                                 "the golden image (%d x %d)",
                                 i + 1, r->x, r->y, r->w, r->h, golden_width, golden_height);
    }
    return TRUE;
}

const PcbZone *
pcb_board_zone_at(const PcbBoard *board, const PcbRect *r)
{
    g_return_val_if_fail(board != NULL && r != NULL, NULL);

    double cx = r->x + r->w / 2, cy = r->y + r->h / 2;
    const PcbZone *best = NULL;
    double best_area = INFINITY;
    for (guint i = 0; board->zones != NULL && i < board->zones->len; i++) {
        const PcbZone *z = &g_array_index(board->zones, PcbZone, i);
        if (z->rect.w <= 0 || z->rect.h <= 0)
            continue; /* a rect-mm zone before its scale is known */
        if (cx < z->rect.x || cx >= z->rect.x + z->rect.w || cy < z->rect.y
            || cy >= z->rect.y + z->rect.h)
            continue;
        if (z->rect.w * z->rect.h < best_area) {
            best = z;
            best_area = z->rect.w * z->rect.h;
        }
    }
    return best;
}

void
pcb_board_apply_params(const PcbBoard *board, PcbInspectParams *params)
{
    const BoardPriv *b = (const BoardPriv *) board;
    for (guint i = 0; i < b->overrides->len; i++) {
        const Override *o = &g_array_index(b->overrides, Override, i);
        pcb_inspect_params_put(params, o->spec, o->value);
    }
}
