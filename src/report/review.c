/* The review page: one self-contained HTML file (inline CSS and JS, the template in
 * review.html) and a sibling folder PAGE.d/ of JPEG images: the reference reduced for the
 * overview, and per finding a reference crop, a registered-photo crop and a difference crop,
 * all in reference coordinates. The page carries the JSON report itself, so what it shows is
 * exactly what the report says. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "pcbdiff/pcbdiff.h"
#include "core/imgops.h"
#include "core/util.h"
#include "report/report_internal.h"
#include "review_page.h" /* review_page[]: generated from src/report/review.html */

#define OVERVIEW_MAX_SIDE 2000 /* px: the whole board, reduced */
#define OVERVIEW_QUALITY  80
#define CROP_QUALITY      88
#define CROP_MAX_SIDE     720  /* px: larger crops are reduced (the page zooms the rest) */
#define CROP_MIN_SIDE     160  /* reference px: a small finding is shown with its surroundings */
#define CROP_MARGIN       0.75 /* of the finding's larger side, on each side */
#define CROP_MIN_MARGIN   16   /* reference px */
#define MAX_CROPS         500  /* findings beyond this get no crops (the page stays small) */
#define DIFF_DIM          0.45 /* the reference's grey under the heat in the difference crop */
#define HEAT_FROM_SIGMA   3.0  /* as the overlay: nothing below, */
#define HEAT_FULL_SIGMA   12.0 /* full red from here */
#define DATA_MARK         "<!--PCBDIFF-DATA-->"

/* The crop of finding @b in a @w x @h reference: [x, y, w, h], inside the image. */
static void
crop_rect(const PcbRect *b, int w, int h, int r[4])
{
    double m = MAX(CROP_MARGIN * MAX(b->w, b->h), CROP_MIN_MARGIN);
    double x0 = b->x - m, x1 = b->x + b->w + m, y0 = b->y - m, y1 = b->y + b->h + m;
    if (x1 - x0 < CROP_MIN_SIDE) {
        double c = (x0 + x1) / 2;
        x0 = c - CROP_MIN_SIDE / 2.0;
        x1 = c + CROP_MIN_SIDE / 2.0;
    }
    if (y1 - y0 < CROP_MIN_SIDE) {
        double c = (y0 + y1) / 2;
        y0 = c - CROP_MIN_SIDE / 2.0;
        y1 = c + CROP_MIN_SIDE / 2.0;
    }
    /* moved inside the image before clipping, so that a finding at an edge keeps its size */
    double dx = x0 < 0 ? -x0 : (x1 > w ? w - x1 : 0), dy = y0 < 0 ? -y0 : (y1 > h ? h - y1 : 0);
    x0 += dx;
    x1 += dx;
    y0 += dy;
    y1 += dy;
    int ix0 = (int) CLAMP(floor(x0), 0, w - 1), iy0 = (int) CLAMP(floor(y0), 0, h - 1);
    int ix1 = (int) CLAMP(ceil(x1), ix0 + 1, w), iy1 = (int) CLAMP(ceil(y1), iy0 + 1, h);
    r[0] = ix0;
    r[1] = iy0;
    r[2] = ix1 - ix0;
    r[3] = iy1 - iy0;
}

/* A view of the rectangle @r of @img (pcb_image_free() frees the view only). */
static PcbImage *
view_of(const PcbImage *img, const int r[4])
{
    return pcb_image_new_view(r[2], r[3], img->format, img->stride,
                              img->data + (size_t) r[1] * img->stride
                                  + (size_t) r[0] * (size_t) img->format);
}

/* @img reduced to @ow x @oh (when smaller than it) and written as JPEG. */
static gboolean
save_reduced(const PcbImage *img, int ow, int oh, const char *path, int quality, GError **error)
{
    if (ow >= img->width && oh >= img->height)
        return pcb_image_save_jpeg(img, path, quality, error);
    g_autoptr(PcbImage) small = pcb_image_resize(img, ow, oh, error);
    return small != NULL && pcb_image_save_jpeg(small, path, quality, error);
}

/* The heat map (any size, stretched over the reference) at reference pixel (@x, @y),
 * bilinear. */
static float
heat_at(const PcbImage *heat, double sx, double sy, int x, int y)
{
    double hx = CLAMP((x + 0.5) * sx - 0.5, 0.0, heat->width - 1.0);
    double hy = CLAMP((y + 0.5) * sy - 0.5, 0.0, heat->height - 1.0);
    int x0 = (int) hx, y0 = (int) hy;
    int x1 = MIN(x0 + 1, heat->width - 1), y1 = MIN(y0 + 1, heat->height - 1);
    float fx = (float) (hx - x0), fy = (float) (hy - y0);
    const guint8 *r0 = pcb_image_row(heat, y0), *r1 = pcb_image_row(heat, y1);
    float top = r0[x0] + fx * (r0[x1] - r0[x0]);
    float bottom = r1[x0] + fx * (r1[x1] - r1[x0]);
    return top + fy * (bottom - top);
}

/* The difference over rectangle @r: the reference in dim grey, the heat map over it from
 * yellow (HEAT_FROM_SIGMA) to red (HEAT_FULL_SIGMA), as in the overlay. */
static PcbImage *
diff_crop(const PcbImage *ref, const PcbImage *heat, const int r[4], GError **error)
{
    PcbImage *out = pcb_image_new(r[2], r[3], PCB_FORMAT_RGB8, error);
    if (out == NULL)
        return NULL;
    double sx = (double) heat->width / ref->width, sy = (double) heat->height / ref->height;
    const float from = (float) (HEAT_FROM_SIGMA * PCB_DIFF_UNIT);
    const float span = (float) ((HEAT_FULL_SIGMA - HEAT_FROM_SIGMA) * PCB_DIFF_UNIT);
    for (int y = 0; y < r[3]; y++) {
        const guint8 *s = pcb_image_row(ref, r[1] + y) + (size_t) r[0] * 3;
        guint8 *d = pcb_image_row(out, y);
        for (int x = 0; x < r[2]; x++, s += 3, d += 3) {
            float grey = (float) DIFF_DIM * (float) ((77 * s[0] + 150 * s[1] + 29 * s[2]) >> 8);
            float v = heat_at(heat, sx, sy, r[0] + x, r[1] + y);
            float t = v <= from ? 0.0f : MIN(1.0f, (v - from) / span);
            float alpha = t > 0 ? 0.25f + 0.75f * sqrtf(t) : 0.0f;
            float green = 255.0f * (1.0f - t); /* yellow -> red */
            d[0] = (guint8) (grey + alpha * (255.0f - grey) + 0.5f);
            d[1] = (guint8) (grey + alpha * (green - grey) + 0.5f);
            d[2] = (guint8) (grey * (1.0f - alpha) + 0.5f);
        }
    }
    return out;
}

typedef struct {
    const PcbInspection *insp;
    const char *dir;     /* where the images go (the temporary folder) */
    JsonBuilder *page;   /* the page's own data */
    GPtrArray *warnings; /* char * */
    guint64 image_bytes; /* written */
} Review;

static void
count_file(Review *rv, const char *path)
{
    GStatBuf st;
    if (g_stat(path, &st) == 0)
        rv->image_bytes += (guint64) st.st_size;
}

/* overview.jpg and its page entry (null without a reference). */
static gboolean
write_overview(Review *rv, GError **error)
{
    const PcbImage *ref = rv->insp->reference;
    json_builder_set_member_name(rv->page, "overview");
    if (ref == NULL) {
        json_builder_add_null_value(rv->page);
        return TRUE;
    }
    double s = MIN(1.0, (double) OVERVIEW_MAX_SIDE / MAX(ref->width, ref->height));
    int ow = MAX(1, (int) lround(ref->width * s)), oh = MAX(1, (int) lround(ref->height * s));
    g_autofree char *file = g_build_filename(rv->dir, "overview.jpg", NULL);
    if (!save_reduced(ref, ow, oh, file, OVERVIEW_QUALITY, error))
        return FALSE;
    count_file(rv, file);
    json_builder_begin_object(rv->page);
    pcb_json_member_string(rv->page, "src", "overview.jpg");
    pcb_json_member_int(rv->page, "width", ow);
    pcb_json_member_int(rv->page, "height", oh);
    json_builder_end_object(rv->page);
    return TRUE;
}

/* The three crops of finding @i (as many as the kept images allow) and its page entry. */
static gboolean
write_crops(Review *rv, guint i, GError **error)
{
    const PcbInspection *insp = rv->insp;
    const PcbImage *ref = insp->reference, *warped = insp->warped, *heat = insp->heat;
    const PcbFinding *f = &g_array_index(insp->findings, PcbFinding, i);
    const PcbRect *b = &f->bbox;
    json_builder_begin_object(rv->page);
    if (ref == NULL || i >= MAX_CROPS || !isfinite(b->x) || !isfinite(b->y) || !isfinite(b->w)
        || !isfinite(b->h)) {
        int one[2] = { 1, 1 };
        pcb_json_member_ints(rv->page, "size", one, 2);
        json_builder_end_object(rv->page);
        return TRUE;
    }
    int r[4];
    crop_rect(b, ref->width, ref->height, r);
    double s = MIN(1.0, (double) CROP_MAX_SIDE / MAX(r[2], r[3]));
    int size[2] = { MAX(1, (int) lround(r[2] * s)), MAX(1, (int) lround(r[3] * s)) };
    pcb_json_member_ints(rv->page, "crop", r, 4);
    pcb_json_member_ints(rv->page, "size", size, 2);

    static const char *const names[] = { "ref", "photo", "diff" };
    for (int k = 0; k < 3; k++) {
        g_autoptr(PcbImage) owned = NULL;
        g_autoptr(PcbImage) view = NULL;
        const PcbImage *img = NULL;
        if (k == 0)
            img = view = view_of(ref, r);
        else if (k == 1 && warped != NULL && warped->width == ref->width
                 && warped->height == ref->height)
            img = view = view_of(warped, r);
        else if (k == 2 && heat != NULL && heat->format == PCB_FORMAT_GRAY8
                 && ref->format == PCB_FORMAT_RGB8) {
            if ((img = owned = diff_crop(ref, heat, r, error)) == NULL)
                return FALSE;
        }
        if (img == NULL)
            continue;
        g_autofree char *name = g_strdup_printf("f%u-%s.jpg", i + 1, names[k]);
        g_autofree char *file = g_build_filename(rv->dir, name, NULL);
        if (!save_reduced(img, size[0], size[1], file, CROP_QUALITY, error))
            return FALSE;
        count_file(rv, file);
        pcb_json_member_string(rv->page, names[k], name);
    }
    json_builder_end_object(rv->page);
    return TRUE;
}

static void
add_zones(JsonBuilder *b, const PcbInspection *insp, const PcbBoard *board)
{
    json_builder_set_member_name(b, "zones");
    json_builder_begin_array(b);
    for (guint i = 0; board != NULL && board->zones != NULL && i < board->zones->len; i++) {
        const PcbZone *z = &g_array_index(board->zones, PcbZone, i);
        json_builder_begin_object(b);
        pcb_json_member_string(b, "name", z->name);
        json_builder_set_member_name(b, "rect");
        json_builder_begin_array(b);
        json_builder_add_double_value(b, z->rect.x);
        json_builder_add_double_value(b, z->rect.y);
        json_builder_add_double_value(b, z->rect.w);
        json_builder_add_double_value(b, z->rect.h);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "judged");
        const PcbZoneJudgement *j = NULL;
        for (guint k = 0; insp->zones != NULL && k < insp->zones->len; k++) {
            const PcbZoneJudgement *zj = &g_array_index(insp->zones, PcbZoneJudgement, k);
            if (g_strcmp0(zj->name, z->name) == 0)
                j = zj;
        }
        if (j != NULL)
            json_builder_add_boolean_value(b, j->judged);
        else
            json_builder_add_null_value(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* @json made safe inside a <script> element: '<' only occurs in strings, where \u003c is the
 * same character. */
static void
append_script_json(GString *html, const char *id, const char *json)
{
    g_string_append_printf(html, "<script id=\"%s\" type=\"application/json\">\n", id);
    for (const char *p = json; *p != '\0'; p++) {
        if (*p == '<')
            g_string_append(html, "\\u003c");
        else
            g_string_append_c(html, *p);
    }
    g_string_append(html, "\n</script>\n");
}

/* Removes @dir and the files in it (our own folders hold no subfolders). */
static void
remove_folder(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *file = g_build_filename(dir, name, NULL);
        (void) g_unlink(file);
    }
    (void) g_rmdir(dir);
}

static gboolean
io_error(GError **error, const char *what, const char *path)
{
    int e = errno;
    g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write %s %s: %s", what, path,
                g_strerror(e));
    return FALSE;
}

/* The HTML text: the template with the report and the page data in it. */
static char *
page_html(const char *report_json, const char *page_json)
{
    const char *mark = strstr(review_page, DATA_MARK);
    g_assert(mark != NULL);
    GString *html = g_string_sized_new(sizeof review_page + strlen(report_json) + 4096);
    g_string_append_len(html, review_page, mark - review_page);
    append_script_json(html, "pcbdiff-report", report_json);
    append_script_json(html, "pcbdiff-page", page_json);
    g_string_append(html, mark + strlen(DATA_MARK));
    return g_string_free(html, FALSE);
}

/* Images into @tmp, then the page's data; the HTML text in *@html. */
static gboolean
build_page(const PcbInspection *insp, const PcbBoard *board, const GError *failure, const char *tmp,
           const char *folder_name, char **html, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    Review rv = { insp, tmp, b, warnings, 0 };
    double t0 = pcb_now_ms();
    g_autofree char *report_json = pcb_report_to_json(insp, failure);

    json_builder_begin_object(b);
    g_autofree char *href = g_uri_escape_string(folder_name, NULL, TRUE);
    pcb_json_member_string(b, "dir", href);
    g_autofree char *report_id = pcb_sha256_data((const guint8 *) report_json, strlen(report_json));
    pcb_json_member_string(b, "report_id", report_id);
    int size[2] = { insp->reference ? insp->reference->width : insp->reference_width,
                    insp->reference ? insp->reference->height : insp->reference_height };
    pcb_json_member_ints(b, "reference_size", size, 2);
    if (!write_overview(&rv, error))
        return FALSE;
    add_zones(b, insp, board);
    json_builder_set_member_name(b, "findings");
    json_builder_begin_array(b);
    guint n = insp->findings != NULL ? insp->findings->len : 0;
    for (guint i = 0; i < n; i++)
        if (!write_crops(&rv, i, error))
            return FALSE;
    json_builder_end_array(b);
    if (n > MAX_CROPS)
        g_ptr_array_add(warnings,
                        g_strdup_printf("crops for the first %d findings only", MAX_CROPS));
    if (n > 0 && insp->warped == NULL)
        g_ptr_array_add(warnings, g_strdup("the registered photo was not kept: no photo crops"));
    const char *whole[] = { insp->pose_why, insp->light_why }; /* why the board was not */
    for (size_t i = 0; i < G_N_ELEMENTS(whole); i++)
        if (whole[i] != NULL)
            g_ptr_array_add(warnings,
                            g_strdup_printf("the board was not judged whole: %s", whole[i]));
    char *light = pcb_report_light_warning(insp);
    if (light != NULL)
        g_ptr_array_add(warnings, light);
    json_builder_set_member_name(b, "warnings");
    json_builder_begin_array(b);
    for (guint i = 0; i < warnings->len; i++)
        json_builder_add_string_value(b, warnings->pdata[i]);
    json_builder_end_array(b);
    json_builder_end_object(b);

    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *page_json = json_to_string(root, FALSE);
    *html = page_html(report_json, page_json);
    g_debug("review page: %u findings, %.1f KiB of images, %.0f ms", n, rv.image_bytes / 1024.0,
            pcb_now_ms() - t0);
    return TRUE;
}

gboolean
pcb_report_write_review(const PcbInspection *insp, const PcbBoard *board, const GError *failure,
                        const char *path, GError **error)
{
    g_return_val_if_fail(insp != NULL && path != NULL, FALSE);
    g_autofree char *folder = g_strconcat(path, ".d", NULL);
    g_autofree char *folder_name = g_path_get_basename(folder);
    g_autofree char *tmp = g_strconcat(folder, ".tmp-XXXXXX", NULL);
    if (g_mkdtemp_full(tmp, 0777) == NULL)
        return io_error(error, "review page images", folder);

    g_autofree char *html = NULL;
    if (!build_page(insp, board, failure, tmp, folder_name, &html, error)) {
        remove_folder(tmp);
        return FALSE;
    }
    /* swap the folder in (the old one aside until the page is written), then the page */
    g_autofree char *old = NULL;
    if (g_file_test(folder, G_FILE_TEST_EXISTS)) {
        old = g_strconcat(folder, ".old-XXXXXX", NULL);
        if (g_mkdtemp_full(old, 0700) == NULL || g_rename(folder, old) != 0) {
            gboolean r = io_error(error, "review page images", folder);
            if (old != NULL)
                (void) g_rmdir(old);
            remove_folder(tmp);
            return r;
        }
    }
    if (g_rename(tmp, folder) != 0) {
        gboolean r = io_error(error, "review page images", folder);
        remove_folder(tmp);
        if (old != NULL)
            (void) g_rename(old, folder);
        return r;
    }
    if (!pcb_write_file_atomic(path, html, strlen(html), error)) {
        remove_folder(folder);
        if (old != NULL)
            (void) g_rename(old, folder);
        return FALSE;
    }
    if (old != NULL)
        remove_folder(old);
    return TRUE;
}
