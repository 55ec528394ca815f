export default definePageConfig({ navigationBarTitleText: '理赔报案' });
