/*
 * A fake libnccl.so.2 for Engine's NCCL binding tests (Engine.Tests/Distributed/Nccl/NcclTests.cs),
 * compiled by the test with `gcc -shared -fPIC`. It implements, on HOST memory, the entry points
 * Engine binds, with the signatures and enum values of nccl.h (NVIDIA/nccl, src/nccl.h.in, read at
 * commit 021e8045), so the test checks Engine's marshalling against the real header's ABI.
 *
 * Semantics: a communicator of nranks ranks in which every rank holds the same data as this one
 * (so all-reduce Sum gives nranks * x, Prod x^nranks, Max/Min/Avg x; all-gather repeats the input
 * nranks times). Planted failures: count == 12345 -> ncclInvalidArgument with a last-error text;
 * ncclCommInitRank with nranks == 777 -> ncclTimeout; cudaSetDevice(99) -> cudaErrorInvalidDevice.
 * Between ncclGroupStart and ncclGroupEnd collectives are queued and run at the outermost
 * ncclGroupEnd, as NCCL launches a group's work only then.
 * fakeNcclRecord() exposes the arguments of the last call.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- declarations as in nccl.h ---- */
typedef struct ncclComm* ncclComm_t;
typedef struct CUstream_st* cudaStream_t; /* cuda_runtime_api.h */
typedef int cudaError_t;                  /* an enum in CUDA; cudaSuccess = 0, cudaErrorInvalidDevice = 101 */

#define NCCL_UNIQUE_ID_BYTES 128
typedef struct { char internal[NCCL_UNIQUE_ID_BYTES]; } ncclUniqueId;

typedef enum { ncclSuccess = 0, ncclUnhandledCudaError = 1, ncclSystemError = 2, ncclInternalError = 3,
               ncclInvalidArgument = 4, ncclInvalidUsage = 5, ncclRemoteError = 6, ncclInProgress = 7,
               ncclTimeout = 8, ncclNumResults = 9 } ncclResult_t;

typedef enum { ncclNumOps_dummy = 5 } ncclRedOp_dummy_t;
typedef enum { ncclSum = 0, ncclProd = 1, ncclMax = 2, ncclMin = 3, ncclAvg = 4, ncclNumOps = 5,
               ncclMaxRedOp = 0x7fffffff >> (32 - 8 * sizeof(ncclRedOp_dummy_t)) } ncclRedOp_t;

typedef enum { ncclInt8 = 0, ncclChar = 0, ncclUint8 = 1, ncclInt32 = 2, ncclInt = 2, ncclUint32 = 3,
               ncclInt64 = 4, ncclUint64 = 5, ncclFloat16 = 6, ncclHalf = 6, ncclFloat32 = 7, ncclFloat = 7,
               ncclFloat64 = 8, ncclDouble = 8, ncclBfloat16 = 9, ncclFloat8e4m3 = 10, ncclFloat8e5m2 = 11,
               ncclNumTypes = 12 } ncclDataType_t;

ncclResult_t ncclGetVersion(int *version);
ncclResult_t ncclGetUniqueId(ncclUniqueId* uniqueId);
ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank);
ncclResult_t ncclCommDestroy(ncclComm_t comm);
ncclResult_t ncclCommAbort(ncclComm_t comm);
ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t *asyncError);
const char*  ncclGetErrorString(ncclResult_t result);
const char*  ncclGetLastError(ncclComm_t comm);
ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count,
    ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype, int root,
    ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclAllGather(const void* sendbuff, void* recvbuff, size_t sendcount,
    ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclReduceScatter(const void* sendbuff, void* recvbuff,
    size_t recvcount, ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
    cudaStream_t stream);
ncclResult_t ncclGroupStart(void);
ncclResult_t ncclGroupEnd(void);
cudaError_t cudaSetDevice(int device);
const char* cudaGetErrorString(cudaError_t error);

/* ---- the fake's state ---- */
struct ncclComm { int magic; int nranks; int rank; };
#define COMM_MAGIC 0x4e43434c

typedef struct {
    char call[32];
    char datatypeName[32];
    char opName[16];
    int64_t send, recv, count, datatype, op, root, comm, stream;
    int64_t groupStarts, groupEnds, destroys, aborts, device;
    int64_t initRanks, initRank, idFirst, idLast, idSum;
} FakeRecord;

static FakeRecord record;
static int version = 22304; /* NCCL_VERSION(2,23,4) */
static ncclResult_t asyncError = ncclSuccess;
static char lastError[128] = "";

const FakeRecord* fakeNcclRecord(void) { return &record; }
void fakeNcclSetVersion(int code) { version = code; }
void fakeNcclSetAsyncError(int error) { asyncError = (ncclResult_t)error; }
static int nqueued, groupDepth;
void fakeNcclReset(void) { memset(&record, 0, sizeof record); version = 22304; asyncError = ncclSuccess; lastError[0] = 0; record.device = -1; nqueued = 0; groupDepth = 0; }

static const char* typeName(ncclDataType_t t) {
    switch (t) {
    case ncclInt8: return "ncclInt8";         case ncclUint8: return "ncclUint8";
    case ncclInt32: return "ncclInt32";       case ncclUint32: return "ncclUint32";
    case ncclInt64: return "ncclInt64";       case ncclUint64: return "ncclUint64";
    case ncclFloat16: return "ncclFloat16";   case ncclFloat32: return "ncclFloat32";
    case ncclFloat64: return "ncclFloat64";   case ncclBfloat16: return "ncclBfloat16";
    default: return "unknown";
    }
}

static const char* opName(ncclRedOp_t op) {
    switch (op) {
    case ncclSum: return "ncclSum"; case ncclProd: return "ncclProd"; case ncclMax: return "ncclMax";
    case ncclMin: return "ncclMin"; case ncclAvg: return "ncclAvg"; default: return "unknown";
    }
}

static size_t typeSize(ncclDataType_t t) {
    switch (t) {
    case ncclInt8: case ncclUint8: return 1;
    case ncclFloat16: case ncclBfloat16: return 2;
    case ncclInt32: case ncclUint32: case ncclFloat32: return 4;
    case ncclInt64: case ncclUint64: case ncclFloat64: return 8;
    default: return 0;
    }
}

static void note(const char* call, const void* send, void* recv, size_t count, int datatype, int op, int root,
                 ncclComm_t comm, cudaStream_t stream) {
    strncpy(record.call, call, sizeof record.call - 1);
    strncpy(record.datatypeName, typeName((ncclDataType_t)datatype), sizeof record.datatypeName - 1);
    strncpy(record.opName, op < 0 ? "" : opName((ncclRedOp_t)op), sizeof record.opName - 1);
    record.send = (int64_t)(intptr_t)send; record.recv = (int64_t)(intptr_t)recv; record.count = (int64_t)count;
    record.datatype = datatype; record.op = op; record.root = root;
    record.comm = (int64_t)(intptr_t)comm; record.stream = (int64_t)(intptr_t)stream;
}

static ncclResult_t check(ncclComm_t comm, size_t count, ncclDataType_t datatype) {
    if (comm == NULL || comm->magic != COMM_MAGIC) { strcpy(lastError, "fake-nccl: not a communicator"); return ncclInvalidArgument; }
    if (count == 12345) { strcpy(lastError, "fake-nccl: count 12345 is the planted failure"); return ncclInvalidArgument; }
    if (typeSize(datatype) == 0) { strcpy(lastError, "fake-nccl: unknown datatype"); return ncclInvalidArgument; }
    return ncclSuccess;
}

/* x reduced over n identical ranks, for the dtypes the fake can compute on. */
#define REDUCE(T) do { \
    const T* s = (const T*)send; T* d = (T*)recv; \
    for (size_t i = 0; i < count; i++) { \
        T x = s[i], y = x; \
        if (op == ncclSum) y = (T)(x * n); \
        else if (op == ncclProd) { y = 1; for (int r = 0; r < n; r++) y = (T)(y * x); } \
        d[i] = y; } } while (0)

static ncclResult_t reduce(const void* send, void* recv, size_t count, ncclDataType_t datatype, ncclRedOp_t op, int n) {
    if (op < ncclSum || op > ncclAvg) { strcpy(lastError, "fake-nccl: unknown op"); return ncclInvalidArgument; }
    if (n == 1 || op == ncclMax || op == ncclMin || op == ncclAvg) { memmove(recv, send, count * typeSize(datatype)); return ncclSuccess; }
    switch (datatype) {
    case ncclInt8: REDUCE(int8_t); break;       case ncclUint8: REDUCE(uint8_t); break;
    case ncclInt32: REDUCE(int32_t); break;     case ncclInt64: REDUCE(int64_t); break;
    case ncclFloat32: REDUCE(float); break;     case ncclFloat64: REDUCE(double); break;
    default: strcpy(lastError, "fake-nccl: cannot compute on this datatype with nranks > 1"); return ncclInvalidArgument;
    }
    return ncclSuccess;
}

/* ---- entry points ---- */
ncclResult_t ncclGetVersion(int *v) { *v = version; return ncclSuccess; }

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
    for (int i = 0; i < NCCL_UNIQUE_ID_BYTES; i++) id->internal[i] = (char)(i * 7 + 3);
    strcpy(record.call, "ncclGetUniqueId");
    return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
    strcpy(record.call, "ncclCommInitRank");
    record.initRanks = nranks; record.initRank = rank;
    record.idFirst = (unsigned char)id.internal[0];
    record.idLast = (unsigned char)id.internal[NCCL_UNIQUE_ID_BYTES - 1];
    record.idSum = 0;
    for (int i = 0; i < NCCL_UNIQUE_ID_BYTES; i++) record.idSum += (unsigned char)id.internal[i];
    *comm = NULL;
    if (nranks == 777) { strcpy(lastError, "fake-nccl: peers never joined (planted timeout)"); return ncclTimeout; }
    if (nranks < 1 || rank < 0 || rank >= nranks) { strcpy(lastError, "fake-nccl: bad rank"); return ncclInvalidArgument; }
    struct ncclComm* c = (struct ncclComm*)calloc(1, sizeof *c);
    c->magic = COMM_MAGIC; c->nranks = nranks; c->rank = rank;
    *comm = c;
    return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) { record.destroys++; if (comm) { comm->magic = 0; free(comm); } return ncclSuccess; }
ncclResult_t ncclCommAbort(ncclComm_t comm) { record.aborts++; if (comm) { comm->magic = 0; free(comm); } return ncclSuccess; }
ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t *e) { (void)comm; *e = asyncError; return ncclSuccess; }

const char* ncclGetErrorString(ncclResult_t r) {
    switch (r) {
    case ncclSuccess: return "fake-nccl says: no error";
    case ncclInvalidArgument: return "fake-nccl says: invalid argument";
    case ncclRemoteError: return "fake-nccl says: remote process exited or there was a network error";
    case ncclTimeout: return "fake-nccl says: operation timed out";
    default: return "fake-nccl says: some error";
    }
}

const char* ncclGetLastError(ncclComm_t comm) { (void)comm; return lastError; }

/* A collective's arguments, run now or at the outermost ncclGroupEnd. */
typedef struct { char kind; const void* send; void* recv; size_t count; ncclDataType_t datatype;
                 ncclRedOp_t op; int root; ncclComm_t comm; } Work;
static Work queued[64];

static ncclResult_t run(const Work* w) {
    size_t bytes = w->count * typeSize(w->datatype);
    switch (w->kind) {
    case 'R': return reduce(w->send, w->recv, w->count, w->datatype, w->op, w->comm->nranks);
    case 'B': memmove(w->recv, w->send, bytes); return ncclSuccess;
    case 'G': for (int k = 0; k < w->comm->nranks; k++) memmove((char*)w->recv + k * bytes, w->send, bytes); return ncclSuccess;
    case 'S': return reduce((const char*)w->send + (size_t)w->comm->rank * bytes, w->recv, w->count, w->datatype, w->op, w->comm->nranks);
    default: return ncclInternalError;
    }
}

static ncclResult_t submit(Work w) {
    ncclResult_t r = check(w.comm, w.count, w.datatype);
    if (r != ncclSuccess) return r;
    if (groupDepth == 0) return run(&w);
    if (nqueued == 64) { strcpy(lastError, "fake-nccl: group too large"); return ncclInvalidUsage; }
    queued[nqueued++] = w;
    return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void* send, void* recv, size_t count, ncclDataType_t datatype, ncclRedOp_t op,
                           ncclComm_t comm, cudaStream_t stream) {
    note("ncclAllReduce", send, recv, count, datatype, op, -1, comm, stream);
    return submit((Work){ 'R', send, recv, count, datatype, op, -1, comm });
}

ncclResult_t ncclBroadcast(const void* send, void* recv, size_t count, ncclDataType_t datatype, int root,
                           ncclComm_t comm, cudaStream_t stream) {
    note("ncclBroadcast", send, recv, count, datatype, -1, root, comm, stream);
    if (comm != NULL && comm->magic == COMM_MAGIC && (root < 0 || root >= comm->nranks)) { strcpy(lastError, "fake-nccl: bad root"); return ncclInvalidArgument; }
    return submit((Work){ 'B', send, recv, count, datatype, ncclSum, root, comm });
}

ncclResult_t ncclAllGather(const void* send, void* recv, size_t sendcount, ncclDataType_t datatype,
                           ncclComm_t comm, cudaStream_t stream) {
    note("ncclAllGather", send, recv, sendcount, datatype, -1, -1, comm, stream);
    return submit((Work){ 'G', send, recv, sendcount, datatype, ncclSum, -1, comm });
}

ncclResult_t ncclReduceScatter(const void* send, void* recv, size_t recvcount, ncclDataType_t datatype,
                               ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream) {
    note("ncclReduceScatter", send, recv, recvcount, datatype, op, -1, comm, stream);
    return submit((Work){ 'S', send, recv, recvcount, datatype, op, -1, comm });
}

ncclResult_t ncclGroupStart(void) { record.groupStarts++; groupDepth++; return ncclSuccess; }

ncclResult_t ncclGroupEnd(void) {
    record.groupEnds++;
    if (groupDepth == 0) { strcpy(lastError, "fake-nccl: ncclGroupEnd without ncclGroupStart"); return ncclInvalidUsage; }
    if (--groupDepth > 0) return ncclSuccess;
    ncclResult_t first = ncclSuccess;
    for (int i = 0; i < nqueued; i++) { ncclResult_t r = run(&queued[i]); if (first == ncclSuccess) first = r; }
    nqueued = 0;
    return first;
}

cudaError_t cudaSetDevice(int device) { if (device == 99) return 101; record.device = device; return 0; }
const char* cudaGetErrorString(cudaError_t e) { return e == 101 ? "invalid device ordinal" : "fake cudart error"; }
