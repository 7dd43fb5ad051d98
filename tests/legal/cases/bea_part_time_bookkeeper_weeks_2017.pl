% Text
% From January 2nd to December 29th, 2017, Cal kept the books of Bea's bakery, a few hours each
% week. Bea paid him $1,200 at the end of each quarter of 2017: on March 31st, June 30th,
% September 29th and December 29th. Bea is single; her own income for 2017 was $60,000 and she
% takes the standard deduction.
% By hand: no quarter's wages reach the $1,500 of §3306(a)(1)(A), but Cal was employed on some
% day of each of the 52 calendar weeks of the service, at least 20 (§3306(a)(1)(B)): Bea is an
% employer. Wages $4,800 (under the $7,000 of (b)(1)); §3301: 6% = $288. Income tax: $60,000 -
% $3,000 - $2,000 = $55,000; §1(c)(iii): $12,107 + 31% of $1,500 = $12,572. Total $12,860.

% Question
% How much tax must Bea pay for 2017? $12860

% Facts
:- [statutes/prolog/init].
service_(cal_bookkeeping).
agent_(cal_bookkeeping,cal).
patient_(cal_bookkeeping,bea).
purpose_(cal_bookkeeping,"bookkeeping for the bakery").
start_(cal_bookkeeping,"2017-01-02").
end_(cal_bookkeeping,"2017-12-29").
payment_(bea_pays_cal_q1).
agent_(bea_pays_cal_q1,bea).
patient_(bea_pays_cal_q1,cal).
purpose_(bea_pays_cal_q1,cal_bookkeeping).
amount_(bea_pays_cal_q1,1200).
start_(bea_pays_cal_q1,"2017-03-31").
payment_(bea_pays_cal_q2).
agent_(bea_pays_cal_q2,bea).
patient_(bea_pays_cal_q2,cal).
purpose_(bea_pays_cal_q2,cal_bookkeeping).
amount_(bea_pays_cal_q2,1200).
start_(bea_pays_cal_q2,"2017-06-30").
payment_(bea_pays_cal_q3).
agent_(bea_pays_cal_q3,bea).
patient_(bea_pays_cal_q3,cal).
purpose_(bea_pays_cal_q3,cal_bookkeeping).
amount_(bea_pays_cal_q3,1200).
start_(bea_pays_cal_q3,"2017-09-29").
payment_(bea_pays_cal_q4).
agent_(bea_pays_cal_q4,bea).
patient_(bea_pays_cal_q4,cal).
purpose_(bea_pays_cal_q4,cal_bookkeeping).
amount_(bea_pays_cal_q4,1200).
start_(bea_pays_cal_q4,"2017-12-29").
income_(bea_income).
agent_(bea_income,bea).
amount_(bea_income,60000).
start_(bea_income,"2017-12-31").

% Test
:- tax(bea,2017,12860).
:- halt.
