% Text
% Four people harvested grapes at Quentin's vineyard on September 5th, 2017: Wen, Xavi, Yusuf
% and Zoe. Quentin handed each of them $6,000 in cash that day. Quentin is unmarried; his own
% earnings for 2017 were $100,000, received on June 30th, 2017, and he claims the standard
% deduction.
% (Each harvest is stated only with the ontology's agricultural service type,
% agricultural_service_, and no words saying what the work was.)
% By hand: the harvest is agricultural labor; cash remuneration for it in 2017 is $24,000, at
% least the $20,000 of §3306(c)(1)(A)(i), so it is employment, and Quentin is an employer under
% §3306(a)(2)(A) (wages $24,000, each worker under the $7,000 of (b)(1)). §3301: 6% of $24,000
% = $1,440. Income tax as §1(c)(iii) gives on $95,000: $24,972. Total $26,412.
% Before, a service typed only agricultural_service_ was no service at all: $24,972.

% Question
% How much tax does Quentin owe for 2017? $26412

% Facts
:- [statutes/prolog/init].
income_(quentin_earnings).
agent_(quentin_earnings,quentin).
amount_(quentin_earnings,100000).
start_(quentin_earnings,"2017-06-30").
agricultural_service_(wen_harvests).
agent_(wen_harvests,wen).
patient_(wen_harvests,quentin).
start_(wen_harvests,"2017-09-05").
agricultural_service_(xavi_harvests).
agent_(xavi_harvests,xavi).
patient_(xavi_harvests,quentin).
start_(xavi_harvests,"2017-09-05").
agricultural_service_(yusuf_harvests).
agent_(yusuf_harvests,yusuf).
patient_(yusuf_harvests,quentin).
start_(yusuf_harvests,"2017-09-05").
agricultural_service_(zoe_harvests).
agent_(zoe_harvests,zoe).
patient_(zoe_harvests,quentin).
start_(zoe_harvests,"2017-09-05").
payment_(quentin_pays_wen).
agent_(quentin_pays_wen,quentin).
patient_(quentin_pays_wen,wen).
purpose_(quentin_pays_wen,wen_harvests).
amount_(quentin_pays_wen,6000).
start_(quentin_pays_wen,"2017-09-05").
payment_(quentin_pays_xavi).
agent_(quentin_pays_xavi,quentin).
patient_(quentin_pays_xavi,xavi).
purpose_(quentin_pays_xavi,xavi_harvests).
amount_(quentin_pays_xavi,6000).
start_(quentin_pays_xavi,"2017-09-05").
payment_(quentin_pays_yusuf).
agent_(quentin_pays_yusuf,quentin).
patient_(quentin_pays_yusuf,yusuf).
purpose_(quentin_pays_yusuf,yusuf_harvests).
amount_(quentin_pays_yusuf,6000).
start_(quentin_pays_yusuf,"2017-09-05").
payment_(quentin_pays_zoe).
agent_(quentin_pays_zoe,quentin).
patient_(quentin_pays_zoe,zoe).
purpose_(quentin_pays_zoe,zoe_harvests).
amount_(quentin_pays_zoe,6000).
start_(quentin_pays_zoe,"2017-09-05").

% Test
:- tax(quentin,2017,26412).
:- halt.
