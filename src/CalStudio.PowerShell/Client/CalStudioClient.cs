using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace CalStudio.Client
{
    /// <summary>Settings of one connection's HTTP transport.</summary>
    public sealed class ClientOptions
    {
        public Uri BaseUri { get; set; } = new Uri("https://calstudio.com");
        public IWebProxy Proxy { get; set; }
        public int MaxConnections { get; set; } = 256;
        /// <summary>Answers larger than this are refused unread: a broken or hostile server cannot fill memory.</summary>
        public int MaxResponseBytes { get; set; } = 16 * 1024 * 1024;
    }

    /// <summary>
    /// One HttpClient per connection, reused by every request (socket reuse; no port exhaustion in long batches).
    /// Sends one attempt and maps every way it can end to an <see cref="ApiOutcome"/>; only the caller's
    /// cancellation escapes as an exception.
    /// </summary>
    public sealed class CalStudioClient : IDisposable
    {
        private readonly HttpClient _http;
        private readonly Uri _endpoint;
        private readonly int _maxResponseBytes;
        private readonly ProxyRefusal _proxyRefusal;

        public CalStudioClient(ClientOptions options)
        {
            _endpoint = Endpoint(options.BaseUri);
            TlsFloor.Apply();
            var handler = new HttpClientHandler
            {
                // The key is in the body: following a 307/308 would hand it to whatever host the server names.
                AllowAutoRedirect = false,
                UseCookies = false,
            };
            if (options.Proxy != null) { handler.Proxy = options.Proxy; handler.UseProxy = true; }
            // A loopback target goes direct unless -Proxy says otherwise: HTTP_PROXY, ALL_PROXY and the system proxy never
            // see the emulator's plain-http traffic (curl and .NET's own NO_PROXY habits for localhost).
            else if (BaseUriPolicy.IsLoopback(_endpoint)) handler.UseProxy = false;
            _proxyRefusal = new ProxyRefusal(options.Proxy, handler.UseProxy, _endpoint);
            ConnectionLimit.Apply(handler, _endpoint, options.Proxy, options.MaxConnections);
            _http = new HttpClient(handler, disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("CalStudio.PowerShell", ModuleInfo.Version));
            _maxResponseBytes = options.MaxResponseBytes;
        }

        public static Uri Endpoint(Uri baseUri)
        {
            string text = baseUri.GetLeftPart(UriPartial.Path);
            if (!text.EndsWith("/", StringComparison.Ordinal)) text += "/";
            return new Uri(new Uri(text), "getbackResponse");
        }

        /// <summary>One attempt. Throws OperationCanceledException only when <paramref name="cancel"/> fires.</summary>
        public async Task<ApiOutcome> SendAsync(PromptRequest request, ApiKey key, TimeSpan timeout, CancellationToken cancel)
        {
            byte[] body = request.ToBody(key);
            using (var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancel))
            {
                timeoutSource.CancelAfter(timeout);
                try
                {
                    using (var message = new HttpRequestMessage(HttpMethod.Post, _endpoint))
                    {
                        message.Content = new ByteArrayContent(body);
                        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                        var answering = System.Diagnostics.Stopwatch.StartNew();
                        using (var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token).ConfigureAwait(false))
                        {
                            Array.Clear(body, 0, body.Length);
                            if (ProxyRefusal.IsRefusal(response)) return _proxyRefusal.Outcome();
                            return await ReadAnswerAsync(response, answering.Elapsed, timeoutSource.Token).ConfigureAwait(false);
                        }
                    }
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    throw;
                }
                catch (OperationCanceledException)
                {
                    return ApiOutcome.Failure(ErrorIds.Timeout, 0,
                        "No answer from the API within " + timeout.TotalSeconds + " s (-TimeoutSec).");
                }
                catch (HttpRequestException ex) when (ProxyRefusal.IsRefusal(ex))
                {
                    return _proxyRefusal.Outcome();
                }
                catch (HttpRequestException ex)
                {
                    return FromTransportException(ex);
                }
                catch (IOException ex)
                {
                    return ApiOutcome.Failure(ErrorIds.ConnectionFailed, 0,
                        "The connection to the API broke while reading its answer: " + ex.Message, cause: ex);
                }
                finally
                {
                    Array.Clear(body, 0, body.Length);
                }
            }
        }

        private async Task<ApiOutcome> ReadAnswerAsync(HttpResponseMessage response, TimeSpan answeredIn, CancellationToken token)
        {
            int status = (int)response.StatusCode;
            string Header(string name)
            {
                if (response.Headers.TryGetValues(name, out var values)) return values.FirstOrDefault();
                if (response.Content != null && response.Content.Headers.TryGetValues(name, out values)) return values.FirstOrDefault();
                return null;
            }

            long? declared = response.Content?.Headers.ContentLength;
            if (declared > _maxResponseBytes)
                return TooLarge(status);

            string text = string.Empty;
            if (response.Content != null)
            {
                using (var stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false))
                using (token.Register(() => stream.Dispose())) // some stream reads ignore the token; disposing ends them
                {
                    // With a declared length, read straight into one array; otherwise grow, refusing past the cap.
                    var buffer = new MemoryStream(declared.HasValue ? (int)declared.Value : 4096);
                    var chunk = new byte[declared.HasValue ? (int)Math.Min(Math.Max(declared.Value, 1), 64 * 1024) : 16 * 1024];
                    int read;
                    while ((read = await stream.ReadAsync(chunk, 0, chunk.Length, token).ConfigureAwait(false)) > 0)
                    {
                        if (buffer.Length + read > _maxResponseBytes) return TooLarge(status);
                        buffer.Write(chunk, 0, read);
                    }
                    token.ThrowIfCancellationRequested();
                    text = DecodeUtf8(buffer.GetBuffer(), (int)buffer.Length);
                }
            }

            return ResponseParser.Parse(status, response.Content?.Headers.ContentType?.MediaType, text, Header, answeredIn);
        }

        private static string DecodeUtf8(byte[] bytes, int count)
        {
            int offset = count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
            return Encoding.UTF8.GetString(bytes, offset, count - offset);
        }

        private ApiOutcome TooLarge(int status) =>
            ApiOutcome.Failure(ErrorIds.ResponseTooLarge, status,
                "The API's answer is larger than " + (_maxResponseBytes / (1024 * 1024)) + " MB; it was not read further.");

        /// <summary>The innermost cause says what happened ("Connection refused"); the outer ones only repeat it, so the
        /// message names it once and the whole chain stays on the error record as its InnerException.</summary>
        private static ApiOutcome FromTransportException(HttpRequestException ex)
        {
            Exception root = ex;
            for (Exception inner = ex; inner != null; inner = inner.InnerException)
            {
                if (inner is AuthenticationException)
                    return ApiOutcome.Failure(ErrorIds.TlsFailure, 0,
                        "The TLS connection to the API failed; the server's certificate was refused: " + inner.Message, cause: ex);
                root = inner;
            }
            return ApiOutcome.Failure(ErrorIds.ConnectionFailed, 0, "The connection to the API failed: " + root.Message, cause: ex);
        }

        public void Dispose() => _http.Dispose();
    }
}
