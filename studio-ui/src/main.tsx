// The studio's single page: five screens (data → advice → train → runs → distil & deploy) sharing the
// chosen file, the accepted advice and the current run, with a 中文/English switch.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AdviceScreen } from './advice-screen.js';
import { DataScreen } from './data-screen.js';
import { DeployScreen } from './deploy-screen.js';
import { RunsScreen } from './runs-screen.js';
import { TrainScreen } from './train-screen.js';
import { initialLang, LangContext, saveLang, TEXT, type Lang, type TextKey } from './ui-text.js';
import type { Shared } from './shared-state.js';
import './studio.css';

const SCREENS = ['data', 'advice', 'train', 'runs', 'deploy'] as const;
type Screen = (typeof SCREENS)[number];
const SCREEN_TEXT: Record<Screen, TextKey> = {
  data: 'nav.data',
  advice: 'nav.advice',
  train: 'nav.train',
  runs: 'nav.runs',
  deploy: 'nav.deploy',
};

function screenFromHash(): Screen {
  const h = location.hash.replace('#', '') as Screen;
  return SCREENS.includes(h) ? h : 'data';
}

function App() {
  const [lang, setLang] = useState<Lang>(initialLang());
  const [screen, setScreen] = useState<Screen>(screenFromHash());
  const [shared, setShared] = useState<Shared>({});
  const t = (k: TextKey) => TEXT[k][lang === 'zh' ? 1 : 0];

  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = `alembic studio — ${t(SCREEN_TEXT[screen])}`;
  }, [lang, screen]);
  useEffect(() => {
    const on = () => setScreen(screenFromHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);

  const go = (s: Screen) => {
    location.hash = s;
    setScreen(s);
    // Move focus to the new screen's heading so keyboard users continue from there.
    requestAnimationFrame(() => document.querySelector<HTMLElement>('main h2')?.focus());
  };
  const update = (patch: Partial<Shared>) => setShared((s) => ({ ...s, ...patch }));
  const props = { shared, update, go };

  return (
    <LangContext.Provider value={{ lang, t }}>
      <a class="skip" href="#main">
        {t('nav.skip')}
      </a>
      <header class="top">
        <h1>
          alembic <span>studio</span>
        </h1>
        <nav aria-label={t('nav.label')}>
          {SCREENS.map((s, i) => (
            <button
              key={s}
              type="button"
              class="tab"
              aria-current={s === screen ? 'page' : undefined}
              data-screen={s}
              onClick={() => go(s)}
            >
              <span class="step">{i + 1}</span> {t(SCREEN_TEXT[s])}
            </button>
          ))}
        </nav>
        <label class="lang">
          <span class="sr">{t('nav.language')}</span>
          <select
            value={lang}
            aria-label={t('nav.language')}
            onChange={(e) => {
              const l = (e.currentTarget as HTMLSelectElement).value as Lang;
              saveLang(l);
              setLang(l);
            }}
          >
            <option value="en">English</option>
            <option value="zh">中文</option>
          </select>
        </label>
      </header>
      <main id="main">
        {screen === 'data' && <DataScreen {...props} />}
        {screen === 'advice' && <AdviceScreen {...props} />}
        {screen === 'train' && <TrainScreen {...props} />}
        {screen === 'runs' && <RunsScreen {...props} />}
        {screen === 'deploy' && <DeployScreen {...props} />}
      </main>
    </LangContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
