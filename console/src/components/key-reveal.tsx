// A new tenant key, shown once: copy it now, because the API keeps only its hash.
import { useRef, useState } from 'preact/hooks';
import { Dialog } from './dialog';

export function KeyReveal({ tenantName, apiKey, onClose }: { tenantName: string; apiKey: string; onClose: () => void }) {
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(apiKey);
      setCopied('yes');
    } catch {
      // No clipboard permission: select the text so Ctrl+C / long-press copies it.
      field.current?.select();
      setCopied('failed');
    }
  };
  return (
    <Dialog title={`New API key for ${tenantName}`} onClose={onClose}>
      <p class="warning">
        <strong>You will not see this key again.</strong> Copy it now and store it safely; the gateway keeps only its hash.
      </p>
      <label for="new-api-key">API key</label>
      <div class="key-row">
        <input id="new-api-key" ref={field} readOnly value={apiKey} class="mono" onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={copy}>
          Copy key
        </button>
      </div>
      <p role="status" class="muted">
        {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Copying is not allowed here: the key is selected, copy it by hand.' : ''}
      </p>
      <div class="actions">
        <button type="button" class="primary" onClick={onClose}>
          I have stored the key
        </button>
      </div>
    </Dialog>
  );
}
