// Every word the studio shows, in English and Chinese. The keys are typed, so a screen cannot use a
// string that has no translation; the language defaults to the browser's and the choice is remembered.
// Two languages and one typed table need no i18n library: the type check is the missing-key check.
import { createContext } from 'preact';

export type Lang = 'en' | 'zh';

export const TEXT = {
  'nav.skip': ['Skip to content', '跳到正文'],
  'nav.label': ['Steps', '步骤'],
  'nav.language': ['Language', '语言'],
  'nav.data': ['Data', '数据'],
  'nav.advice': ['Advice', '选型建议'],
  'nav.train': ['Train', '训练'],
  'nav.runs': ['Runs', '实验记录'],
  'nav.deploy': ['Distil & deploy', '蒸馏与部署'],

  'data.title': ['Data', '数据'],
  'data.lead': [
    'Upload a labelled file (TSV, CSV or JSONL) or pick one in the workspace. The studio detects the task and checks the data as the guide asks.',
    '上传一个带标注的文件（TSV、CSV 或 JSONL），或从工作区中选择。studio 会识别任务类型，并按指南检查数据。',
  ],
  'data.upload': ['Upload a file', '上传文件'],
  'data.uploadHint': ['TSV/CSV/JSONL, stored in the workspace', 'TSV/CSV/JSONL，保存到工作区'],
  'data.pick': ['Or pick a file', '或选择已有文件'],
  'data.none': ['— choose —', '— 请选择 —'],
  'data.loading': ['Reading the file…', '正在读取文件…'],
  'data.uploading': ['Uploading…', '正在上传…'],
  'data.splitting': ['Splitting…', '正在划分…'],
  'data.format': ['Format', '格式'],
  'data.task': ['Detected task', '识别出的任务'],
  'data.examples': ['Examples', '样本数'],
  'data.preview': ['First rows', '前几行'],
  'data.labels': ['Label distribution', '标签分布'],
  'data.checks': ['Data checks', '数据检查'],
  'data.pass': ['passed:', '通过：'],
  'data.fail': ['problem:', '问题：'],
  'data.split': ['Dev / test split', '划分验证集 / 测试集'],
  'data.dev': ['Dev fraction', '验证集比例'],
  'data.test': ['Test fraction', '测试集比例'],
  'data.seed': ['Seed', '随机种子'],
  'data.splitButton': ['Split', '划分'],
  'data.splitDone': ['Written:', '已生成：'],
  'data.next': ['Next: advice →', '下一步：选型建议 →'],

  'advice.title': ['Advice', '选型建议'],
  'advice.lead': [
    'Answer the advisor’s questions; it recommends a network and says which rules led there. Measuring trains the candidates briefly and plots accuracy against speed.',
    '回答选型顾问的问题，它会推荐一个模型并说明依据的规则。“实测”会对候选模型做短时训练，画出准确率与速度的关系。',
  ],
  'advice.task': ['Task', '任务'],
  'advice.language': ['Text language', '文本语言'],
  'advice.zh': ['Chinese', '中文'],
  'advice.en': ['English', '英文'],
  'advice.qps': ['Target QPS', '目标 QPS'],
  'advice.hardware': ['Serving hardware', '部署硬件'],
  'advice.labelled': ['Labelled examples', '已标注样本数'],
  'advice.goal': ['Accuracy goal (0–1)', '准确率目标（0–1）'],
  'advice.ask': ['Get advice', '获取建议'],
  'advice.recommendation': ['Recommendation', '推荐方案'],
  'advice.reasons': ['Why', '理由'],
  'advice.rules': ['Rules applied', '用到的规则'],
  'advice.rule': ['Rule', '规则'],
  'advice.says': ['Says', '结论'],
  'advice.why': ['Because', '原因'],
  'advice.accept': ['Accept and train →', '采纳并去训练 →'],
  'advice.measure': ['Measure the candidates', '实测候选模型'],
  'advice.budget': ['Time budget (s)', '时间预算（秒）'],
  'advice.measuring': ['Measurement:', '实测：'],
  'advice.chart': ['Dev metric × QPS (batch 1)', '验证集指标 × QPS（batch 1）'],
  'advice.chartX': ['QPS', 'QPS'],

  'train.title': ['Train', '训练'],
  'train.lead': [
    'The form and the JSON are the same config: edit either. Validation is the CLI’s. The run trains in the background; the curves update as it goes.',
    '表单和 JSON 是同一份配置，改哪边都行；校验规则与命令行一致。训练在后台进行，曲线实时更新。',
  ],
  'train.net': ['Network', '网络'],
  'train.name': ['Run name', '实验名称'],
  'train.start': ['Start training', '开始训练'],
  'train.validate': ['Validate', '校验'],
  'train.valid': ['The config is valid.', '配置有效。'],
  'train.form': ['Settings', '参数'],
  'train.showAll': ['Show every field of the schema', '显示全部字段'],
  'train.json': ['Config JSON', '配置 JSON'],
  'train.jsonOnly': ['(edit in the JSON)', '（请在 JSON 中编辑）'],
  'train.notObject': ['The config must be a JSON object', '配置必须是 JSON 对象'],
  'train.run': ['Run', '实验'],
  'train.status': ['Status', '状态'],
  'train.step': ['step', '步数'],
  'train.progress': ['Training progress', '训练进度'],
  'train.loss': ['Training loss', '训练损失'],
  'train.dev': ['Dev metric', '验证集指标'],
  'train.stop': ['Stop', '停止'],
  'train.resume': ['Resume', '继续训练'],

  'status.running': ['running', '训练中'],
  'status.done': ['done', '已完成'],
  'status.failed': ['failed', '失败'],
  'status.stopped': ['stopped', '已停止'],
  'status.interrupted': ['interrupted', '被中断'],

  'runs.title': ['Runs', '实验记录'],
  'runs.lead': [
    'Every run in this workspace. Tick two or more to overlay their curves.',
    '工作区中的所有实验。勾选两个或更多，可叠加对比曲线。',
  ],
  'runs.compare': ['Compare', '对比'],
  'runs.metrics': ['Best dev', '最佳验证集指标'],
  'runs.created': ['Started', '开始时间'],
  'runs.actions': ['Actions', '操作'],
  'runs.open': ['Open', '查看'],
  'runs.report': ['Report', '报告'],
  'runs.delete': ['Delete…', '删除…'],
  'runs.deleteTitle': ['Delete run', '删除实验'],
  'runs.typeName': ['Type the run’s name to confirm', '输入实验名称以确认'],
  'runs.deleteForever': ['Delete for good', '永久删除'],
  'runs.cancel': ['Cancel', '取消'],
  'runs.deleted': ['Deleted', '已删除'],
  'runs.none': ['No runs yet.', '还没有实验。'],
  'runs.overlay': ['Compare curves', '曲线对比'],
  'runs.pickTwo': ['Tick two or more runs above.', '请在上表中勾选至少两个实验。'],

  'deploy.title': ['Distil & deploy', '蒸馏与部署'],
  'deploy.lead': [
    'Export a trained run to ONNX and see how fast it serves on this machine, try it on a sentence, or distil it into a smaller model.',
    '把训练好的模型导出为 ONNX，查看它在本机的服务速度；输入一句话试试效果；或把它蒸馏成更小的模型。',
  ],
  'deploy.run': ['Run', '实验'],
  'deploy.job': ['Job', '任务'],
  'deploy.export': ['Export', '导出'],
  'deploy.int8': ['int8 (quantised: smaller, usually faster)', 'int8 量化（更小，通常更快）'],
  'deploy.exportButton': ['Export and measure', '导出并测速'],
  'deploy.qps1': ['QPS, batch 1', 'QPS（batch 1）'],
  'deploy.qps32': ['QPS, batch 32', 'QPS（batch 32）'],
  'deploy.agreement': ['Dev agreement with the model', '与原模型在验证集上的一致率'],
  'deploy.downloadModel': ['Download model', '下载模型'],
  'deploy.downloadExport': ['Download export', '下载导出文件'],
  'deploy.try': ['Try it', '在线试用'],
  'deploy.text': ['Text', '文本'],
  'deploy.textA': ['First text', '文本一'],
  'deploy.textB': ['Second text', '文本二'],
  'deploy.predict': ['Predict', '预测'],
  'deploy.label': ['Prediction', '预测结果'],
  'deploy.distill': ['Distil', '模型蒸馏'],
  'deploy.distillHint': [
    'With the guide’s defaults: model distillation trains a small student on this run’s soft labels; data distillation labels unlabelled text with it.',
    '使用指南的默认设置：模型蒸馏用本实验的软标签训练小模型；数据蒸馏用它给未标注文本打标签。',
  ],
  'deploy.kind': ['Kind', '方式'],
  'deploy.kindModel': ['Model distillation', '模型蒸馏'],
  'deploy.kindData': ['Data distillation', '数据蒸馏'],
  'deploy.distillButton': ['Start distillation', '开始蒸馏'],
  'deploy.curl': ['Serve it: curl', '服务调用：curl'],
  'deploy.copy': ['Copy', '复制'],
  'deploy.copied': ['Copied', '已复制'],
} as const satisfies Record<string, readonly [string, string]>;

export type TextKey = keyof typeof TEXT;

const KEY = 'alembic-studio-lang';

export function initialLang(): Lang {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem(KEY) : null;
  if (saved === 'en' || saved === 'zh') return saved;
  return navigator.language?.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function saveLang(l: Lang): void {
  localStorage.setItem(KEY, l);
}

export const LangContext = createContext<{ lang: Lang; t: (k: TextKey) => string }>({
  lang: 'en',
  t: (k) => TEXT[k][0],
});
