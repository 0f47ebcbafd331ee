import NIOCore
import NIOHTTP1

/// The client side's bytes: requests read from them (HTTP/1), responses written as them, and the
/// reads held while the backend or a pipelined request waits.
extension ProxyHandler {
    // MARK: Requests

    /// HTTP/1: the bytes of a read. HTTP/2 streams get their parts from `HTTP2StreamAdapter` instead.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isHTTP2 else { return }
        reader.append(unwrapInboundIn(data))
        readRequests()
    }

    /// An HTTP/2 stream's request part, from `HTTP2StreamAdapter`.
    func receiveFromStream(_ part: ProxyRequestPart) {
        guard let context else { return }
        dispatch(part, context: context)
    }

    /// Serves the request parts the bytes read so far hold, as far as the exchange can take them:
    /// the parts of the request being served, and the next request only once the one before it
    /// has been answered (pipelining, RFC 9112 §9.3.2). A request that has to wait stays unread
    /// bytes, with reads held until its turn (`holdingForPipeline`); called again when a response
    /// ends, for the pipelined request behind it.
    func readRequests() {
        guard !isHTTP2, !readingRequests, let context else { return }
        readingRequests = true
        defer { readingRequests = false }
        while phase != .closed, !(requestComplete && phase != .idle) {
            let part: ProxyRequestPart?
            do {
                part = try reader.next()
            } catch {
                requestRefused(error, context: context)
                return
            }
            guard let part else { break }
            dispatch(part, context: context)
        }
        let waiting = phase != .closed && requestComplete && phase != .idle && reader.hasBytes && !reader.stopped
        if waiting {
            holdingForPipeline = true
        } else if holdingForPipeline {
            holdingForPipeline = false
            if pendingRead, !readsPaused {
                pendingRead = false
                context.read()
            }
        }
    }

    /// A request the reader refused (malformed, or headers over the limits). The connection closes
    /// after this; a response goes first if none has started for the request the error belongs
    /// to (the one being read: a request body's broken chunk framing while its response has not
    /// started, or the next request's head).
    private func requestRefused(_ error: Error, context: ChannelHandlerContext) {
        guard phase == .idle || (!requestComplete && !responseStarted) else {
            abortClient()
            return
        }
        let status: HTTPResponseStatus = (error as? HTTP1ParseError) == .headTooLarge ? .requestHeaderFieldsTooLarge : .badRequest
        shared.logger.debug("ingress request refused", metadata: ["error": "\(error)", "status": "\(status.code)"])
        closeBackend()
        queue.removeAll()
        for part in LocalResponse.parts(status, version: .http1_1, close: true, allocator: context.channel.allocator) {
            sendToClient(part)
        }
        phase = .closed
        closeAfterFlush(context)
    }

    // MARK: Responses

    /// Writes a response part: HTTP/1 as bytes, gathered until the next `flushClient`; HTTP/2 as
    /// NIO's part for the stream's codec.
    func sendToClient(_ part: ProxyResponsePart) {
        if case .head(let head) = part {
            sendHeadToClient(head)
            return
        }
        guard let context else { return }
        if isHTTP2 {
            context.write(NIOAny(HTTP2StreamAdapter.responsePart(part)), promise: nil)
            return
        }
        writer.write(part, allocator: allocator, promise: nil) { bytes, _ in
            output.add(bytes, context: context)
        }
    }

    /// Writes a response head (the hot path calls this with the head rather than a part, whose
    /// head case is boxed).
    func sendHeadToClient(_ head: ProxyResponseHead) {
        guard let context else { return }
        if isHTTP2 {
            context.write(NIOAny(HTTPServerResponsePart.head(head.httpResponseHead)), promise: nil)
            return
        }
        output.add(writer.writeHead(head, allocator: allocator), context: context)
    }

    /// Sends what was written since the last flush (nothing when nothing was).
    func flushClient() {
        guard let context else { return }
        if isHTTP2 {
            context.flush()
        } else {
            output.flush(context: context)
        }
    }

    /// Flushes, then closes the connection once the bytes are out (HTTP/1: "connection: close",
    /// a refused request, shutdown).
    func closeAfterFlush(_ context: ChannelHandlerContext) {
        let sent = context.eventLoop.makePromise(of: Void.self)
        output.flush(context: context, promise: sent)
        sent.futureResult.assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    // MARK: Reads

    func read(context: ChannelHandlerContext) {
        if readsPaused || holdingForPipeline {
            pendingRead = true
        } else {
            context.read()
        }
    }

    /// Stops reading from the client. The client body timeout stops with it (the wait is the
    /// proxy's, not the client's), unless the send timeout of a client not reading is running.
    func pauseReads() {
        readsPaused = true
        if context?.channel.isWritable ?? true { timer.set(nil) }
    }

    func resumeReads() {
        guard readsPaused else { return }
        readsPaused = false
        if (phase == .forwarding || phase == .connecting), !requestComplete { timer.set(in: config.clientBodyTimeout) }
        if pendingRead, !holdingForPipeline, let context {
            pendingRead = false
            context.read()
        }
    }
}
