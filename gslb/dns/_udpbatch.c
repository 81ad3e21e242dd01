/*
 * gslb.dns._udpbatch: answer a UDP socket's waiting queries with two system calls per batch.
 *
 * Python's socket module has no recvmmsg or sendmmsg, so an event loop reads one datagram per
 * system call, builds the sender's address as text, and sends each reply with another system
 * call. Under load that costs more than answering the query. serve() reads up to BATCH
 * datagrams at once, hands each to a Python callable with the sender's address as packed bytes,
 * and sends every reply of the batch with one sendmmsg. It never blocks: the socket must be
 * non-blocking, and serve() returns when the socket has nothing more to read or after
 * max_batches batches, so the event loop can serve everything else in between.
 *
 * With dynamic updates on, serve() is given a fourth callable, deferred: a datagram whose opcode
 * is UPDATE (5) goes to deferred(data, source, port) instead, and gets no reply in this batch
 * (the update service answers it later, with the port to send to). Without it, nothing is checked.
 *
 * This module is optional: gslb.dns.udp falls back to an asyncio DatagramProtocol without it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64
#define DATAGRAM 65536 /* the largest UDP payload, so no query is ever cut */

static unsigned char buffers[BATCH][DATAGRAM];
static struct sockaddr_storage senders[BATCH];
static struct mmsghdr incoming[BATCH];
static struct iovec incoming_iov[BATCH];
static struct mmsghdr outgoing[BATCH];
static struct iovec outgoing_iov[BATCH];

/* The sender's address without its port: 4 bytes (IPv4) or 16 (IPv6); NULL for anything else. */
static PyObject *packed_address(const struct sockaddr_storage *sender)
{
    if (sender->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sender;
        return PyBytes_FromStringAndSize((const char *)&v4->sin_addr, 4);
    }
    if (sender->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sender;
        return PyBytes_FromStringAndSize((const char *)&v6->sin6_addr, 16);
    }
    Py_RETURN_NONE;
}

/* The sender's port, in host order. */
static long sender_port(const struct sockaddr_storage *sender)
{
    if (sender->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sender)->sin_port);
    if (sender->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sender)->sin6_port);
    return 0;
}

/* An UPDATE (opcode 5 in the third byte of the header), for deferred(). */
static int is_update(const unsigned char *data, unsigned int length)
{
    return length > 2 && (data[2] & 0x78) == 0x28;
}

/* Hand an UPDATE to deferred(data, source, port); NULL when that raised. */
static PyObject *defer(PyObject *deferred, const unsigned char *data, unsigned int length,
                       const struct sockaddr_storage *sender)
{
    PyObject *bytes = PyBytes_FromStringAndSize((const char *)data, length);
    PyObject *source = bytes ? packed_address(sender) : NULL;
    PyObject *port = source ? PyLong_FromLong(sender_port(sender)) : NULL;
    PyObject *result = NULL;
    if (port && source != Py_None)
        result = PyObject_CallFunctionObjArgs(deferred, bytes, source, port, NULL);
    else if (port)
        result = Py_NewRef(Py_None);
    Py_XDECREF(bytes);
    Py_XDECREF(source);
    Py_XDECREF(port);
    return result;
}

/* Send what was collected; replies the socket cannot take now are dropped and counted. */
static int send_replies(int fd, unsigned int count, long *dropped)
{
    unsigned int sent = 0;
    while (sent < count) {
        int result;
        Py_BEGIN_ALLOW_THREADS
        result = sendmmsg(fd, outgoing + sent, count - sent, MSG_DONTWAIT);
        Py_END_ALLOW_THREADS
        if (result < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
                *dropped += count - sent; /* a full send buffer: UDP clients ask again */
                return 0;
            }
            /* One reply the kernel refuses (an unreachable sender, say) must not lose the rest. */
            *dropped += 1;
            sent += 1;
            continue;
        }
        sent += (unsigned int)result;
    }
    return 0;
}

static PyObject *serve(PyObject *module, PyObject *args)
{
    int fd, max_batches;
    PyObject *handle, *deferred = Py_None;
    if (!PyArg_ParseTuple(args, "iOi|O", &fd, &handle, &max_batches, &deferred))
        return NULL;
    int deferring = deferred != Py_None;
    long answered = 0, dropped = 0;
    for (int batch = 0; batch < max_batches; batch++) {
        for (int i = 0; i < BATCH; i++) {
            incoming_iov[i].iov_base = buffers[i];
            incoming_iov[i].iov_len = DATAGRAM;
            memset(&incoming[i].msg_hdr, 0, sizeof(incoming[i].msg_hdr));
            incoming[i].msg_hdr.msg_name = &senders[i];
            incoming[i].msg_hdr.msg_namelen = sizeof(senders[i]);
            incoming[i].msg_hdr.msg_iov = &incoming_iov[i];
            incoming[i].msg_hdr.msg_iovlen = 1;
        }
        int received;
        Py_BEGIN_ALLOW_THREADS
        received = recvmmsg(fd, incoming, BATCH, MSG_DONTWAIT, NULL);
        Py_END_ALLOW_THREADS
        if (received < 0) {
            if (errno == EINTR)
                continue;
            break; /* EAGAIN: nothing waiting; anything else: leave it to the next readiness */
        }
        PyObject *replies[BATCH];
        unsigned int count = 0;
        for (int i = 0; i < received; i++) {
            if (incoming[i].msg_hdr.msg_flags & MSG_TRUNC)
                continue; /* cannot happen with DATAGRAM-sized buffers; never answer half a query */
            if (deferring && is_update(buffers[i], incoming[i].msg_len)) {
                PyObject *done = defer(deferred, buffers[i], incoming[i].msg_len, &senders[i]);
                if (done == NULL)
                    break; /* an exception: send what is ready, then raise it */
                Py_DECREF(done);
                continue;
            }
            PyObject *data = PyBytes_FromStringAndSize((const char *)buffers[i], incoming[i].msg_len);
            PyObject *source = data ? packed_address(&senders[i]) : NULL;
            PyObject *reply = NULL;
            if (data && source && source != Py_None)
                reply = PyObject_CallFunctionObjArgs(handle, data, source, NULL);
            else if (data && source)
                reply = Py_NewRef(Py_None);
            Py_XDECREF(data);
            Py_XDECREF(source);
            if (reply == NULL)
                break; /* an exception: send what is ready, then raise it */
            if (!PyBytes_Check(reply)) {
                Py_DECREF(reply); /* None: silence */
                continue;
            }
            replies[count] = reply;
            outgoing_iov[count].iov_base = PyBytes_AS_STRING(reply);
            outgoing_iov[count].iov_len = (size_t)PyBytes_GET_SIZE(reply);
            memset(&outgoing[count].msg_hdr, 0, sizeof(outgoing[count].msg_hdr));
            outgoing[count].msg_hdr.msg_name = &senders[i];
            outgoing[count].msg_hdr.msg_namelen = incoming[i].msg_hdr.msg_namelen;
            outgoing[count].msg_hdr.msg_iov = &outgoing_iov[count];
            outgoing[count].msg_hdr.msg_iovlen = 1;
            count++;
        }
        send_replies(fd, count, &dropped);
        answered += count;
        for (unsigned int i = 0; i < count; i++)
            Py_DECREF(replies[i]);
        if (PyErr_Occurred())
            return NULL;
        if (received < BATCH)
            break; /* the socket is empty for now */
    }
    return Py_BuildValue("(ll)", answered, dropped);
}

static PyMethodDef methods[] = {
    {"serve", serve, METH_VARARGS,
     "serve(fd, handle, max_batches[, deferred]) -> (answered, dropped)\n\n"
     "Answer the datagrams waiting on the non-blocking UDP socket fd: handle(data, source) is\n"
     "called for each, source being the sender's packed address (4 or 16 bytes), and returns\n"
     "the reply (bytes) or None. Replies go out with sendmmsg, BATCH at a time. When deferred\n"
     "is given, an UPDATE goes to deferred(data, source, port) instead, and gets no reply here."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef definition = {
    PyModuleDef_HEAD_INIT, "_udpbatch", "Batched UDP system calls (recvmmsg, sendmmsg) for gslb.", -1, methods,
};

PyMODINIT_FUNC PyInit__udpbatch(void)
{
    PyObject *module = PyModule_Create(&definition);
    if (module != NULL && PyModule_AddIntConstant(module, "BATCH", BATCH) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
