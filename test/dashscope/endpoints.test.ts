import assert from 'node:assert/strict';
import { isLoopbackHost, qwenRealtimeUrl, resolveEndpoints } from '../../src/dashscope/endpoints';

describe('endpoints', () => {
  it('uses the Beijing and Singapore public hosts', () => {
    const bj = resolveEndpoints({ region: 'beijing' });
    assert.equal(bj.cosyvoiceWs, 'wss://dashscope.aliyuncs.com/api-ws/v1/inference');
    assert.equal(bj.customization, 'https://dashscope.aliyuncs.com/api/v1/services/audio/tts/customization');
    const sg = resolveEndpoints({ region: 'singapore' });
    assert.equal(qwenRealtimeUrl(sg, 'qwen3-tts-flash-realtime'), 'wss://dashscope-intl.aliyuncs.com/api-ws/v1/realtime?model=qwen3-tts-flash-realtime');
    assert.equal(sg.httpBase, 'https://dashscope-intl.aliyuncs.com/api/v1');
  });

  it('derives ws:// and http:// URLs from a loopback custom base URL', () => {
    const e = resolveEndpoints({ region: 'custom', endpoint: 'http://127.0.0.1:4567/' });
    assert.equal(e.cosyvoiceWs, 'ws://127.0.0.1:4567/api-ws/v1/inference');
    assert.equal(e.qwenRealtimeWs, 'ws://127.0.0.1:4567/api-ws/v1/realtime');
    assert.equal(e.customization, 'http://127.0.0.1:4567/api/v1/services/audio/tts/customization');
    assert.equal(resolveEndpoints({ region: 'custom', endpoint: 'http://localhost:9' }).cosyvoiceWs, 'ws://localhost:9/api-ws/v1/inference');
  });

  it('keeps a path prefix and derives wss:// from https://', () => {
    const e = resolveEndpoints({ region: 'custom', endpoint: 'https://proxy.example.com/dashscope' });
    assert.equal(e.cosyvoiceWs, 'wss://proxy.example.com/dashscope/api-ws/v1/inference');
  });

  it('refuses clear text to a remote host unless allowed', () => {
    assert.throws(() => resolveEndpoints({ region: 'custom', endpoint: 'http://192.0.2.10:8080' }), /clear text/);
    assert.equal(
      resolveEndpoints({ region: 'custom', endpoint: 'http://192.0.2.10:8080', allowInsecure: true }).cosyvoiceWs,
      'ws://192.0.2.10:8080/api-ws/v1/inference',
    );
  });

  it('one loopback test for the endpoints and the upload host: this machine only, as URL.hostname gives it', () => {
    const hostname = (url: string): string => new URL(url).hostname;
    for (const url of ['http://127.0.0.1:1', 'http://127.8.9.10', 'http://localhost:9', 'http://LOCALHOST', 'http://[::1]:4567']) {
      assert.equal(isLoopbackHost(hostname(url)), true, url);
    }
    for (const url of ['http://192.0.2.10', 'http://localhost.example.com', 'http://127.0.0.1.example.com', 'http://[::2]', 'http://10.0.0.1']) {
      assert.equal(isLoopbackHost(hostname(url)), false, url);
    }
  });

  it('explains a missing or malformed custom URL', () => {
    assert.throws(() => resolveEndpoints({ region: 'custom', endpoint: '' }), /needs a base URL/);
    assert.throws(() => resolveEndpoints({ region: 'custom', endpoint: 'not a url' }), /not a valid base URL/);
    assert.throws(() => resolveEndpoints({ region: 'custom', endpoint: 'ftp://x' }), /https:\/\//);
  });
});
