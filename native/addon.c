/*
 * N-API glue for the native kernels: exports sgemm(transA, transB, M, N, K, A, B, C, accumulate,
 * threads[, rowStable]), the attention kernels attnForward / attnBackward / attnDecode (argument
 * order as in attention.h, Float32Arrays then dims then threads, then the optional segments as
 * segStart Int32Array and prefix), swigluForward / swigluBackward
 * and info(). Each instance owns one
 * persistent thread pool that sgemm and attention share. Context-aware (NAPI_MODULE_INIT): each Node worker thread that loads the
 * addon gets its own instance with its own packing buffers, so concurrent workers never share
 * state. Calls are synchronous; they block the calling JS thread until C is written.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>

#include "attention.h"
#include "elementwise.h"
#include "sgemm.h"


#define CHECK(call)                                                                          \
  do {                                                                                       \
    if ((call) != napi_ok) {                                                                 \
      napi_throw_error(env, NULL, "spell_gemm: N-API call failed: " #call);                  \
      return NULL;                                                                           \
    }                                                                                        \
  } while (0)

static int get_f32(napi_env env, napi_value v, float **data, size_t *len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  void *p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, &ab, &off) != napi_ok) return 0;
  if (type != napi_float32_array) return 0;
  *data = (float *)p; /* already offset by byte_offset */
  return 1;
}

static napi_value js_sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  spell_gemm_instance *inst;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&inst));
  if (argc != 10 && argc != 11) {
    napi_throw_type_error(env, NULL, "spell_gemm.sgemm: expected 10 or 11 arguments");
    return NULL;
  }
  bool tA, tB, acc, rowStable = false;
  int64_t M, N, K, threads;
  CHECK(napi_get_value_bool(env, argv[0], &tA));
  CHECK(napi_get_value_bool(env, argv[1], &tB));
  CHECK(napi_get_value_int64(env, argv[2], &M));
  CHECK(napi_get_value_int64(env, argv[3], &N));
  CHECK(napi_get_value_int64(env, argv[4], &K));
  CHECK(napi_get_value_bool(env, argv[8], &acc));
  CHECK(napi_get_value_int64(env, argv[9], &threads));
  if (argc == 11) CHECK(napi_get_value_bool(env, argv[10], &rowStable));
  float *A, *B, *C;
  size_t la, lb, lc;
  if (!get_f32(env, argv[5], &A, &la) || !get_f32(env, argv[6], &B, &lb) ||
      !get_f32(env, argv[7], &C, &lc)) {
    napi_throw_type_error(env, NULL, "spell_gemm.sgemm: A, B and C must be Float32Arrays");
    return NULL;
  }
  if (M < 0 || N < 0 || K < 0 || (uint64_t)la < (uint64_t)(M * K) ||
      (uint64_t)lb < (uint64_t)(K * N) || (uint64_t)lc < (uint64_t)(M * N)) {
    napi_throw_range_error(env, NULL, "spell_gemm.sgemm: dims do not fit the buffers");
    return NULL;
  }
  if (threads < 1) threads = 1;
  if (threads > SPELL_MAX_THREADS) threads = SPELL_MAX_THREADS;
  if (!spell_sgemm(inst, tA, tB, (long)M, (long)N, (long)K, A, B, C, acc, (int)threads, rowStable)) {
    napi_throw_error(env, NULL, "spell_gemm.sgemm: out of memory for packing buffers");
  }
  return NULL;
}


/* Reads argv[i..i+n) as Float32Arrays, each with its length in lens. */
static int get_arrays(napi_env env, napi_value *argv, int n, float **ptrs, size_t *lens) {
  for (int i = 0; i < n; i++)
    if (!get_f32(env, argv[i], &ptrs[i], &lens[i])) return 0;
  return 1;
}

static int get_ints(napi_env env, napi_value *argv, int n, int64_t *out) {
  for (int i = 0; i < n; i++)
    if (napi_get_value_int64(env, argv[i], &out[i]) != napi_ok) return 0;
  return 1;
}

/* Shape checks shared by the attention entry points; throws and returns 0 on a mismatch. */
static int attn_dims_ok(napi_env env, const char *name, int64_t Tq, int64_t Tk, int64_t NH,
                        int64_t NKV, int64_t HD) {
  if (Tq < 1 || Tk < Tq || NH < 1 || NKV < 1 || HD < 1 || NH % NKV != 0) {
    napi_throw_range_error(env, NULL, name);
    return 0;
  }
  return 1;
}

/*
 * The optional segments argument pair (segStart Int32Array or null, prefix): *seg stays NULL for
 * null/undefined. Throws and returns 0 when a row's segment would hide the row from itself.
 */
static int get_segments(napi_env env, napi_value sv, napi_value pv, int64_t Tq, int64_t Tk,
                        const int32_t **seg, int64_t *prefix) {
  *seg = NULL;
  *prefix = 0;
  napi_valuetype t;
  if (napi_typeof(env, sv, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) return 1;
  bool is_ta = false;
  napi_typedarray_type type;
  napi_value ab;
  size_t len, off;
  void *p;
  if (napi_is_typedarray(env, sv, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, sv, &type, &len, &p, &ab, &off) != napi_ok ||
      type != napi_int32_array || napi_get_value_int64(env, pv, prefix) != napi_ok) {
    napi_throw_type_error(env, NULL, "spell_gemm.attn: segStart must be an Int32Array, prefix an integer");
    return 0;
  }
  const int32_t *s = (const int32_t *)p;
  int ok = len >= (size_t)Tq && *prefix >= 0 && *prefix <= Tk;
  for (int64_t i = 0; ok && i < Tq; i++) ok = s[i] >= 0 && s[i] <= Tk - Tq + i;
  if (!ok) {
    napi_throw_range_error(env, NULL, "spell_gemm.attn: segStart/prefix do not fit the rows");
    return 0;
  }
  *seg = s;
  return 1;
}

static int threads_of(int64_t t) { return t < 1 ? 1 : t > SPELL_MAX_THREADS ? SPELL_MAX_THREADS : (int)t; }

/* attnForward(q, k, v, out, lse, Tq, Tk, NH, NKV, HD, threads[, segStart, prefix]) */
static napi_value js_attn_forward(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  spell_gemm_instance *inst;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&inst));
  float *a[5];
  size_t n[5];
  int64_t d[6];
  if ((argc != 11 && argc != 13) || !get_arrays(env, argv, 5, a, n) ||
      !get_ints(env, argv + 5, 6, d)) {
    napi_throw_type_error(env, NULL, "spell_gemm.attnForward: expected 5 Float32Arrays and 6 integers");
    return NULL;
  }
  const int64_t Tq = d[0], Tk = d[1], NH = d[2], NKV = d[3], HD = d[4];
  if (!attn_dims_ok(env, "spell_gemm.attnForward: bad dims", Tq, Tk, NH, NKV, HD)) return NULL;
  if (n[0] < (size_t)(Tq * NH * HD) || n[1] < (size_t)(Tk * NKV * HD) ||
      n[2] < (size_t)(Tk * NKV * HD) || n[3] < (size_t)(Tq * NH * HD) || n[4] < (size_t)(NH * Tq)) {
    napi_throw_range_error(env, NULL, "spell_gemm.attnForward: dims do not fit the buffers");
    return NULL;
  }
  const int32_t *seg = NULL;
  int64_t prefix = 0;
  if (argc == 13 && !get_segments(env, argv[11], argv[12], Tq, Tk, &seg, &prefix)) return NULL;
  if (!spell_attn_forward(&inst->pool, threads_of(d[5]), a[0], a[1], a[2], a[3], a[4], Tq, Tk,
                          (int)NH, (int)NKV, (int)HD, seg, (long)prefix))
    napi_throw_error(env, NULL, "spell_gemm.attnForward: out of memory");
  return NULL;
}

/* attnBackward(q, k, v, out, lse, dout, dq, dk, dv, Tq, Tk, NH, NKV, HD, threads[, segStart, prefix]) */
static napi_value js_attn_backward(napi_env env, napi_callback_info info) {
  size_t argc = 17;
  napi_value argv[17];
  spell_gemm_instance *inst;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&inst));
  float *a[9];
  size_t n[9];
  int64_t d[6];
  if ((argc != 15 && argc != 17) || !get_arrays(env, argv, 9, a, n) ||
      !get_ints(env, argv + 9, 6, d)) {
    napi_throw_type_error(env, NULL, "spell_gemm.attnBackward: expected 9 Float32Arrays and 6 integers");
    return NULL;
  }
  const int64_t Tq = d[0], Tk = d[1], NH = d[2], NKV = d[3], HD = d[4];
  if (!attn_dims_ok(env, "spell_gemm.attnBackward: bad dims", Tq, Tk, NH, NKV, HD)) return NULL;
  const size_t nq = (size_t)(Tq * NH * HD), nk = (size_t)(Tk * NKV * HD);
  const size_t need[9] = {nq, nk, nk, nq, (size_t)(NH * Tq), nq, nq, nk, nk};
  for (int i = 0; i < 9; i++) {
    if (n[i] < need[i]) {
      napi_throw_range_error(env, NULL, "spell_gemm.attnBackward: dims do not fit the buffers");
      return NULL;
    }
  }
  const int32_t *seg = NULL;
  int64_t prefix = 0;
  if (argc == 17 && !get_segments(env, argv[15], argv[16], Tq, Tk, &seg, &prefix)) return NULL;
  if (!spell_attn_backward(&inst->pool, threads_of(d[5]), a[0], a[1], a[2], a[3], a[4], a[5], a[6],
                           a[7], a[8], Tq, Tk, (int)NH, (int)NKV, (int)HD, seg, (long)prefix))
    napi_throw_error(env, NULL, "spell_gemm.attnBackward: out of memory");
  return NULL;
}

/* attnDecode(q, kc, vc, out, L, Tk, NH, NKV, HD, threads) */
static napi_value js_attn_decode(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  spell_gemm_instance *inst;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&inst));
  float *a[4];
  size_t n[4];
  int64_t d[6];
  if (argc != 10 || !get_arrays(env, argv, 4, a, n) || !get_ints(env, argv + 4, 6, d)) {
    napi_throw_type_error(env, NULL, "spell_gemm.attnDecode: expected 4 Float32Arrays and 6 integers");
    return NULL;
  }
  const int64_t L = d[0], Tk = d[1], NH = d[2], NKV = d[3], HD = d[4];
  if (!attn_dims_ok(env, "spell_gemm.attnDecode: bad dims", 1, Tk, NH, NKV, HD) || L < Tk) {
    if (L < Tk) napi_throw_range_error(env, NULL, "spell_gemm.attnDecode: cache shorter than Tk");
    return NULL;
  }
  if (n[0] < (size_t)(NH * HD) || n[1] < (size_t)(NKV * HD * L) || n[2] < (size_t)(NKV * HD * L) ||
      n[3] < (size_t)(NH * HD)) {
    napi_throw_range_error(env, NULL, "spell_gemm.attnDecode: dims do not fit the buffers");
    return NULL;
  }
  if (!spell_attn_decode(&inst->pool, threads_of(d[5]), a[0], a[1], a[2], a[3], L, Tk, (int)NH,
                         (int)NKV, (int)HD))
    napi_throw_error(env, NULL, "spell_gemm.attnDecode: out of memory");
  return NULL;
}

/* swigluForward(out, gate, up, n, threads) / swigluBackward(dgate, dup, dout, gate, up, n, threads) */
static napi_value js_swiglu(napi_env env, napi_callback_info info, int backward) {
  size_t argc = 7;
  napi_value argv[7];
  spell_gemm_instance *inst;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&inst));
  const int na = backward ? 5 : 3;
  float *a[5];
  size_t n[5];
  int64_t d[2];
  if ((int)argc != na + 2 || !get_arrays(env, argv, na, a, n) || !get_ints(env, argv + na, 2, d)) {
    napi_throw_type_error(env, NULL, "spell_gemm.swiglu: expected Float32Arrays, n and threads");
    return NULL;
  }
  for (int i = 0; i < na; i++) {
    if (d[0] < 0 || n[i] < (size_t)d[0]) {
      napi_throw_range_error(env, NULL, "spell_gemm.swiglu: n does not fit the buffers");
      return NULL;
    }
  }
  if (backward) spell_swiglu_backward(&inst->pool, threads_of(d[1]), a[0], a[1], a[2], a[3], a[4], d[0]);
  else spell_swiglu_forward(&inst->pool, threads_of(d[1]), a[0], a[1], a[2], d[0]);
  return NULL;
}

static napi_value js_swiglu_forward(napi_env env, napi_callback_info info) {
  return js_swiglu(env, info, 0);
}

static napi_value js_swiglu_backward(napi_env env, napi_callback_info info) {
  return js_swiglu(env, info, 1);
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj, v;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_string_utf8(env, spell_sgemm_isa(), NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, "isa", v));
  CHECK(napi_create_int32(env, spell_sgemm_mr(), &v));
  CHECK(napi_set_named_property(env, obj, "mr", v));
  CHECK(napi_create_int32(env, spell_sgemm_nr(), &v));
  CHECK(napi_set_named_property(env, obj, "nr", v));
  /* attnForward/attnBackward take the packed-sequence segments (older builds do not) */
  CHECK(napi_get_boolean(env, true, &v));
  CHECK(napi_set_named_property(env, obj, "segments", v));
  return obj;
}

static void finalize_instance(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  spell_gemm_instance *inst = (spell_gemm_instance *)data;
  spell_sgemm_release(inst);
  free(inst);
}

NAPI_MODULE_INIT() {
  spell_gemm_instance *inst = (spell_gemm_instance *)calloc(1, sizeof(spell_gemm_instance));
  if (inst == NULL) {
    napi_throw_error(env, NULL, "spell_gemm: out of memory");
    return NULL;
  }
  spell_pool_init(&inst->pool); /* on failure every call runs on the calling thread */
  if (napi_set_instance_data(env, inst, finalize_instance, NULL) != napi_ok) {
    free(inst);
    return NULL;
  }
  napi_value fn;
  CHECK(napi_create_function(env, "sgemm", NAPI_AUTO_LENGTH, js_sgemm, inst, &fn));
  CHECK(napi_set_named_property(env, exports, "sgemm", fn));
  CHECK(napi_create_function(env, "attnForward", NAPI_AUTO_LENGTH, js_attn_forward, inst, &fn));
  CHECK(napi_set_named_property(env, exports, "attnForward", fn));
  CHECK(napi_create_function(env, "attnBackward", NAPI_AUTO_LENGTH, js_attn_backward, inst, &fn));
  CHECK(napi_set_named_property(env, exports, "attnBackward", fn));
  CHECK(napi_create_function(env, "attnDecode", NAPI_AUTO_LENGTH, js_attn_decode, inst, &fn));
  CHECK(napi_set_named_property(env, exports, "attnDecode", fn));
  CHECK(napi_create_function(env, "swigluForward", NAPI_AUTO_LENGTH, js_swiglu_forward, inst, &fn));
  CHECK(napi_set_named_property(env, exports, "swigluForward", fn));
  CHECK(napi_create_function(env, "swigluBackward", NAPI_AUTO_LENGTH, js_swiglu_backward, inst, &fn));
  CHECK(napi_set_named_property(env, exports, "swigluBackward", fn));
  CHECK(napi_create_function(env, "info", NAPI_AUTO_LENGTH, js_info, inst, &fn));
  CHECK(napi_set_named_property(env, exports, "info", fn));
  return exports;
}
